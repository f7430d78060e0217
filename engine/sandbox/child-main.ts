/**
 * Entry point of a sandbox child process (forked by isolated-host.ts with --no-node-snapshot).
 * It runs scripts in isolates on the parent's behalf and holds nothing else: no config, no
 * clients, no secrets in its environment. If it dies, the parent fails its runs and forks anew.
 */
import { createCodeCache } from './code-cache.ts';
import { CODE_CACHE_BYTES, CODE_CACHE_ENTRIES } from './code-key.ts';
import { createIsolatePool } from './isolate-pool.ts';
import { startIsolateRun, type IsolateRun } from './isolate-run.ts';
import type { ChildMessage, ParentMessage } from './protocol.ts';
import { createSpareIsolates } from './spare-isolate.ts';

/** Idle isolates kept for reuse (only when the host turns reuse on); each holds up to its heap threshold. */
const MAX_IDLE_ISOLATES = 4;

const runs = new Map<number, IsolateRun>();
const codeCache = createCodeCache(CODE_CACHE_ENTRIES, CODE_CACHE_BYTES);
const isolates = createIsolatePool(MAX_IDLE_ISOLATES);
/**
 * One fresh isolate made ahead of the next run (spare-isolate.ts), for the memory limit the last
 * run here asked for: most runs of a process share one (the default, limits.memoryMb = 64,
 * engine/domain/workflow.ts). A run with another limit makes its own isolate, as without spares.
 */
const spares = createSpareIsolates();
const DEFAULT_MEMORY_MB = 64;
let spareMemoryMb = DEFAULT_MEMORY_MB;
let retiring = false;
/** Well inside the parent's grace before it kills this process (VEER_SANDBOX_KILL_GRACE_MS, 1 s by default). */
const STUCK_NOTE_MS = 300;
/** Made after the current turn, so that a run's outcome (or the ready message) goes out first. */
const warmSoon = () =>
  setImmediate(() => {
    // (A spare of this limit already held is kept; one of another limit is replaced.)
    if (!retiring) spares.warm(spareMemoryMb);
  });

function post(message: ChildMessage): void {
  if (process.connected) process.send?.(message);
}

process.on('message', (raw) => {
  const msg = raw as ParentMessage;
  if (msg.t === 'run') {
    if (runs.has(msg.id)) return;
    // Code sent along is stored only under a key that carries its hash; without code, only a
    // cached entry (whose hash was checked when stored) runs. Anything else: ask for the code.
    const entry = msg.code !== undefined ? codeCache.put(msg.codeKey, msg.code) : codeCache.get(msg.codeKey);
    if (!entry) {
      if (msg.code !== undefined) {
        post({
          t: 'done',
          id: msg.id,
          reused: false,
          spare: false,
          outcome: { status: 'failed', error: { code: 'SANDBOX.INVALID_REQUEST', message: 'the code sent does not match its cache key' } },
        });
      } else post({ t: 'code-miss', id: msg.id });
      return;
    }
    spareMemoryMb = msg.limits.memoryMb;
    // Reuse (off by default) keeps its own isolates; otherwise a spare of this limit, if one is ready.
    const spare = msg.reuse ? undefined : spares.take(msg.limits.memoryMb);
    const run = startIsolateRun({
      entry,
      cache: codeCache,
      lease: spare ? isolates.leaseSpare(spare) : isolates.lease(msg.codeKey, msg.limits.memoryMb, msg.reuse),
      context: msg.context,
      limits: msg.limits,
      capabilities: msg.capabilities,
      settings: msg.settings,
      onHostCall: (callId, capability, method, args) => post({ t: 'host-call', id: msg.id, callId, capability, method, args }),
      onLog: (level, message, fields) => post({ t: 'log', id: msg.id, level, message, fields }),
    });
    runs.set(msg.id, run);
    void run.done.then((outcome) => {
      runs.delete(msg.id);
      post({ t: 'done', id: msg.id, outcome, reused: run.reused, spare: run.spare });
      if (!msg.reuse) warmSoon();
    });
  } else if (msg.t === 'host-result') {
    const run = runs.get(msg.id);
    if (!run) return;
    if (msg.ok) run.deliver(msg.callId, true, msg.json);
    else run.deliver(msg.callId, false, msg.message, msg.code);
  } else if (msg.t === 'abort') {
    const run = runs.get(msg.id);
    if (!run) {
      // Nothing to stop here (the run ended and its outcome is on its way, or never arrived).
      process.stderr.write(`sandbox: abort (${msg.reason}) for run ${msg.id}, which this process does not hold\n`);
      return;
    }
    run.abort(msg.reason);
    // A stop ends a run within a turn or two; one still here is named on stderr, which the
    // parent logs if it then has to kill this process (the cause of a stuck run, next time).
    setTimeout(() => {
      if (runs.get(msg.id) === run)
        process.stderr.write(`sandbox: run ${msg.id} still waiting for ${run.waitingFor()} ${STUCK_NOTE_MS} ms after its ${msg.reason}\n`);
    }, STUCK_NOTE_MS).unref();
  } else if (msg.t === 'retire') {
    // No more runs will come: the spare would only hold memory until the process is stopped.
    retiring = true;
    spares.close();
  } else if (msg.t === 'ping') {
    post({ t: 'pong', seq: msg.seq, rssBytes: process.memoryUsage.rss() });
  }
});

// The parent is gone (or closed the channel): nobody will read our results.
process.on('disconnect', () => {
  spares.close();
  process.exit(0);
});

post({ t: 'ready', pid: process.pid });
warmSoon();

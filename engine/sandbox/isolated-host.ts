import type { Logger } from '../shared/logger.ts';
import type { LogLevel, RunError } from '../domain/run.ts';
import type { Capabilities } from './capabilities.ts';
import type { SandboxHost, SandboxOutcome, SandboxRequest } from '../ports/sandbox-host.ts';
import { RESERVED_CTX_NAMES, type ChildMessage, type ChildOutcome, type RunSettings } from './protocol.ts';
import { forkSandboxChild, type ChildExit, type SandboxChild } from './sandbox-child.ts';
import { residentBytes } from './child-memory.ts';
import { judgeLostRun, type KillReason } from './process-loss.ts';
import { dispatchHostCall } from './host-boundary.ts';
import { CODE_CACHE_ENTRIES, createCodeKeys } from './code-key.ts';
import type { IsolateReuse } from './isolate-pool.ts';

export interface IsolatedSandboxOptions {
  /** Child processes in the pool. */
  processes: number;
  /** Runs one child executes at once (one isolate each); further runs queue for a slot. */
  runsPerProcess: number;
  logger: Logger;
  /** Log entries kept per run unless `limits.maxLogEntries` says otherwise. Default 1000. */
  maxLogEntries?: number;
  /** Longer log messages are cut and marked. Default 8192 characters. */
  maxLogMessageChars?: number;
  /** A child that has not ended a run this long after being told to is SIGKILLed. Default 1000 ms. */
  abortGraceMs?: number;
  /** Extra Node flags for the children. */
  childExecArgv?: string[];
  /** The children's whole environment (TZ, LANG, LC_ALL from config); nothing else of the engine's leaks in. Default: empty. */
  childEnv?: Record<string, string>;
  /** Resident memory one child may reach; past it, it is SIGKILLed (VEER_SANDBOX_CHILD_MEMORY_MB). Default: runsPerProcess × 1024 + 256. */
  childMemoryMb?: number;
  /** A child is replaced after this many runs (VEER_SANDBOX_RECYCLE_RUNS). Default 500. */
  recycleRuns?: number;
  /** An idle child holding more than this is replaced (VEER_SANDBOX_RECYCLE_RSS_MB). Default 256. */
  recycleRssMb?: number;
  /** A child that answers no ping this long is SIGKILLed (VEER_SANDBOX_UNRESPONSIVE_MS). Default 10 000 ms. */
  unresponsiveMs?: number;
  /**
   * Reuse an isolate across runs of the same workflow version (fresh context per run; recycled
   * after `maxRuns`, after any failure, limit, deadline or cancel, and when its heap is above
   * `maxHeapMb`). Default: off — a fresh isolate per run, and it should stay off: the heap is
   * per isolate, and the next run can time how much garbage the previous one left (the sandbox
   * bench measures an allocation loop p50 377 ms after a clean run vs 472 ms after one that left
   * 200k objects) and that the isolate is warm (JIT, compilation cache). isolated-vm has no way
   * to force a full GC between runs, so that channel cannot be closed. What
   * test/sandbox/isolate-reuse.test.ts shows does not leak: globals, builtins and prototypes,
   * module scope, pending sleeps/host calls/microtasks, WeakRefs, errors' stacks, memory and CPU
   * accounting.
   */
  isolateReuse?: IsolateReuse;
}

/** What the pool did, for operators, tests and the benchmark. */
export interface IsolatedSandboxStats {
  /** Runs whose child reported an outcome. */
  runs: number;
  /** Of those, runs that got an isolate that ran the same version before. */
  reusedIsolates: number;
  /** Of those, runs that got a spare: a fresh isolate its child made before the run (never run in). */
  spareIsolates: number;
  /** Run messages that carried the code, and those that carried only its key (code cached in the child). */
  codeSent: number;
  codeOmitted: number;
  /** Runs sent without code that the child no longer had (sent again with it). */
  codeMisses: number;
}

/** The isolated SandboxHost, plus what operators (and tests) may want to see of the pool. */
export interface IsolatedSandbox extends SandboxHost {
  /** PIDs of the live child processes. */
  processIds: () => number[];
  stats: () => IsolatedSandboxStats;
}

interface ActiveRun {
  id: number;
  request: SandboxRequest;
  codeKey: string;
  capabilities: Capabilities;
  settings: RunSettings;
  signal?: AbortSignal;
  onAbort?: () => void;
  resolve: (outcome: SandboxOutcome) => void;
  child?: PoolChild;
  /** Set once the child was told to stop the run; the reason decides the outcome if it must be killed. */
  stopping?: 'cancelled' | 'timeout';
  /** The child forked for this run alone: it is a suspect of an earlier process loss being run again. */
  ownChild?: PoolChild;
  timers: NodeJS.Timeout[];
  logs: number;
  /** ctx calls the child asked the host for: none means nothing of the run reached the outside. */
  hostCalls: number;
  /** Already run again in a process of its own after a loss it may not have caused (once only). */
  rerun?: boolean;
  settled: boolean;
}

interface PoolChild {
  process: SandboxChild;
  runs: Map<number, ActiveRun>;
  /** Forked for this one run (see ActiveRun.ownChild); takes no other. */
  dedicatedTo?: ActiveRun;
  /** Runs dispatched to it, for recycling. */
  started: number;
  /** Takes no more runs and is stopped once idle; a pool child's replacement is already forked. */
  retiring: boolean;
  /** Why the pool killed it (decides how its runs end). */
  killed?: KillReason;
  /** When it last answered a ping (or became ready). */
  lastPongMs: number;
  pings: number;
  /** Resident memory it last reported itself (used where /proc cannot be read). */
  reportedRss?: number;
  /** Code keys sent to it, oldest first: a run of one of these is sent without its code. */
  codeKeys: Set<string>;
}

const MAX_LOG_FIELDS_CHARS = 16 * 1024;
const MAX_HOST_ARGS_CHARS = 1024 * 1024;
// Forking a child and loading isolated-vm takes a few hundred ms on a busy machine; the parent's
// own deadline only backs up the child's, so it is generous.
const PARENT_DEADLINE_SLACK_MS = 2000;
/** How often each child is pinged and its memory read. */
const WATCH_MS = 250;
/** Suspects of a process loss remembered for their re-run (the executor re-runs at once). */
const SUSPECT_TTL_MS = 10 * 60_000;
const MAX_SUSPECTS = 10_000;
const MB = 1024 * 1024;

/**
 * The production SandboxHost: a supervised pool of child processes, each running scripts in
 * fresh isolated-vm isolates (engine/sandbox/child-main.ts). Children are pinged and their
 * resident memory read every WATCH_MS: one past the memory cap or silent too long is
 * SIGKILLed; idle ones that grew, or ran many runs, are replaced. A child that dies — V8
 * aborts the whole process on some allocations whatever the memory limit — takes only its own
 * runs and is replaced. Who caused it (engine/sandbox/process-loss.ts): a run alone in its
 * process ends SANDBOX.CRASHED / MEMORY / UNRESPONSIVE; runs that shared it end
 * SANDBOX.PROCESS_LOST, and when run again (same run id) each gets a fresh process of its own,
 * so a crash there is its own and a bystander simply finishes.
 */
export function createIsolatedSandbox(options: IsolatedSandboxOptions): IsolatedSandbox {
  const logger = options.logger;
  const maxLogEntries = options.maxLogEntries ?? 1000;
  const maxLogMessageChars = options.maxLogMessageChars ?? 8192;
  const abortGraceMs = options.abortGraceMs ?? 1000;
  const childMemoryMb = options.childMemoryMb ?? options.runsPerProcess * 1024 + 256;
  const recycleRuns = options.recycleRuns ?? 500;
  const recycleRssBytes = (options.recycleRssMb ?? 256) * MB;
  const unresponsiveMs = options.unresponsiveMs ?? 10_000;
  /** Run ids (RunScope.runId) whose process was lost while shared: their next run gets its own process. */
  const suspects = new Map<string, number>();
  const pool: PoolChild[] = [];
  const queue: ActiveRun[] = [];
  let nextRunId = 0;
  let closed = false;
  let startFailures = 0;
  const keyOf = createCodeKeys();
  const stats: IsolatedSandboxStats = { runs: 0, reusedIsolates: 0, spareIsolates: 0, codeSent: 0, codeOmitted: 0, codeMisses: 0 };

  const spawn = (dedicatedTo?: ActiveRun): PoolChild => {
    const entry: PoolChild = {
      runs: new Map(),
      dedicatedTo,
      started: 0,
      retiring: false,
      lastPongMs: 0,
      pings: 0,
      codeKeys: new Set(),
      process: forkSandboxChild({
        execArgv: options.childExecArgv,
        env: options.childEnv,
        onReady: () => {
          startFailures = 0;
          entry.lastPongMs = Date.now();
          logger.debug({ pid: entry.process.pid, dedicated: dedicatedTo !== undefined }, 'sandbox process ready');
          if (dedicatedTo && !dedicatedTo.settled && !entry.retiring) dispatch(dedicatedTo, entry);
          pump();
        },
        onMessage: (message) => onChildMessage(entry, message),
        onExit: (exit) => onChildExit(entry, exit),
      }),
    };
    pool.push(entry);
    return entry;
  };

  /** Takes a child out of service: no more runs, stopped once idle. A pool child is replaced at once. */
  const retire = (entry: PoolChild, why?: string): void => {
    if (!entry.retiring) {
      entry.retiring = true;
      entry.process.send({ t: 'retire' });
      if (!entry.dedicatedTo && !closed) {
        logger.debug({ pid: entry.process.pid, why }, 'replacing sandbox process');
        spawn();
      }
    }
    if (entry.runs.size === 0) void entry.process.stop(abortGraceMs);
  };

  const kill = (entry: PoolChild, reason: KillReason): void => {
    if (entry.process.exited) return;
    entry.killed ??= reason;
    entry.process.kill();
  };

  const markSuspect = (runId: string): void => {
    if (suspects.size >= MAX_SUSPECTS) suspects.delete(suspects.keys().next().value!);
    suspects.set(runId, Date.now() + SUSPECT_TTL_MS);
  };
  const takeSuspect = (runId: string): boolean => {
    const until = suspects.get(runId);
    suspects.delete(runId);
    return until !== undefined && until > Date.now();
  };

  const onChildExit = (entry: PoolChild, exit: ChildExit): void => {
    pool.splice(pool.indexOf(entry), 1);
    if (closed) return;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const runs = [...entry.runs.values()];
    const planned = entry.retiring && !entry.killed && runs.length === 0;
    if (!planned) {
      logger.warn(
        { pid: entry.process.pid, code: exit.code, signal: exit.signal, killed: entry.killed?.kind, runs: runs.length, stderr: exit.stderr.slice(-1000) },
        `sandbox process ${how}${entry.killed ? ` (${entry.killed.kind})` : ''}${entry.retiring || entry.dedicatedTo ? '' : '; starting a replacement'}`,
      );
    }
    const loss = { exit, killed: entry.killed, runs: runs.length, childMemoryMb, abortGraceMs };
    for (const run of runs) {
      const verdict = judgeLostRun(loss, { id: run.id, stopping: run.stopping, timeoutMs: run.request.limits.timeoutMs, dedicated: entry.dedicatedTo === run });
      if (verdict.kind === 'stopped') settle(run, stoppedOutcome(verdict.reason, run, ' (the sandbox process did not stop it in time and was killed)'));
      else if (mayRunAgain(run, entry)) rerunAlone(run, entry);
      else {
        if (verdict.kind === 'suspect') markSuspect(run.request.scope.runId);
        settle(run, verdict.outcome);
      }
    }
    if (!exit.wasReady) startFailures++;
    const waiting = entry.dedicatedTo;
    if (waiting && !waiting.settled) {
      settle(waiting, {
        status: 'failed',
        error: { code: 'SANDBOX.UNAVAILABLE', message: `the sandbox process forked for this run ${how} before it was ready` },
      });
    }
    // Retired and dedicated children are not part of the pool's count: nothing to replace.
    if (entry.retiring || entry.dedicatedTo) return;
    // A child that cannot even start (broken install) would otherwise be re-forked in a tight loop.
    const delay = startFailures === 0 ? 0 : Math.min(5000, 100 * 2 ** startFailures);
    if (startFailures >= 3) failQueue(`sandbox processes fail to start (${how}): ${exit.stderr.slice(-500) || 'no output'}`);
    const timer = setTimeout(() => {
      if (!closed) spawn();
    }, delay);
    timer.unref();
  };

  /**
   * A run in a pool process killed because a run in it did not stop or the process stopped
   * answering (trivial scripts were seen stuck in isolate set-up on loaded machines, cause not
   * found), that asked the host for nothing and logged nothing: no effect of it reached the
   * outside, so it is run again here, at once, in a process of its own, and its caller sees only
   * the outcome of that run (later); stuck or silent again there, it is the culprit. Every other
   * loss is judged as before: a suspect is left to the executor (SANDBOX.PROCESS_LOST, a new
   * attempt it records, at no cost to its retries: a crash or memory kill is worth seeing).
   */
  const mayRunAgain = (run: ActiveRun, lost: PoolChild): boolean =>
    (lost.killed?.kind === 'stuck' || lost.killed?.kind === 'unresponsive') && lost.dedicatedTo !== run && !run.rerun && run.hostCalls === 0 && run.logs === 0;
  const rerunAlone = (run: ActiveRun, lost: PoolChild): void => {
    for (const t of run.timers) clearTimeout(t);
    run.timers = [];
    run.child = undefined;
    run.stopping = undefined;
    run.rerun = true;
    logger.warn(
      { pid: lost.process.pid, runId: run.request.scope.runId, killed: lost.killed?.kind },
      'sandbox process lost while it held a run that had not reached out yet; running it again in a process of its own',
    );
    // (Not when closed: onChildExit returns before judging anything then.)
    run.ownChild = spawn(run);
  };

  const failQueue = (message: string): void => {
    for (const run of queue.splice(0)) settle(run, { status: 'failed', error: { code: 'SANDBOX.UNAVAILABLE', message } });
  };

  const onChildMessage = (entry: PoolChild, message: ChildMessage): void => {
    if (message.t === 'ready') return;
    if (message.t === 'pong') {
      entry.lastPongMs = Date.now();
      entry.reportedRss = message.rssBytes;
      return;
    }
    const run = entry.runs.get(message.id);
    if (!run || run.settled) return;
    if (message.t === 'done') {
      stats.runs++;
      if (message.reused) stats.reusedIsolates++;
      if (message.spare) stats.spareIsolates++;
      settle(run, fromChild(message.outcome));
    } else if (message.t === 'code-miss') {
      stats.codeMisses++;
      entry.codeKeys.delete(run.codeKey);
      // Told to stop before the child had the run: it has nothing to stop.
      if (run.stopping) settle(run, stoppedOutcome(run.stopping, run));
      else sendRun(run, entry);
    } else if (message.t === 'log') onLog(run, message.level, message.message, message.fields);
    else if (message.t === 'host-call') {
      run.hostCalls++;
      void hostCall(run, entry, message.callId, message.capability, message.method, message.args);
    }
  };

  const onLog = (run: ActiveRun, level: LogLevel, message: string, fieldsJson: string | undefined): void => {
    // The child already caps entries; this only guards against a misbehaving child (+1: the notice).
    if (++run.logs > run.settings.maxLogEntries + 1) return;
    let fields: Record<string, unknown> | undefined;
    if (fieldsJson !== undefined) {
      try {
        const parsed: unknown = JSON.parse(fieldsJson);
        fields = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
      } catch {
        fields = undefined;
      }
    }
    try {
      run.request.scope.log(level, message, fields);
    } catch (err) {
      logger.warn({ err, runId: run.request.scope.runId }, 'run log sink failed');
    }
  };

  const hostCall = async (run: ActiveRun, entry: PoolChild, callId: number, capability: string, method: string, argsJson: string): Promise<void> => {
    // Every ctx call goes through the one host boundary: budgets, parsed arguments, schemas.
    const reply = await dispatchHostCall({ capabilities: run.capabilities, scope: run.request.scope, capability, method, argsJson });
    if (run.settled || run.child !== entry) return;
    entry.process.send({ t: 'host-result', id: run.id, callId, ...reply });
  };

  const fromChild = (outcome: ChildOutcome): SandboxOutcome => {
    if (outcome.status !== 'succeeded') return { status: outcome.status, error: outcome.error };
    try {
      return { status: 'succeeded', result: outcome.resultJson === undefined ? null : JSON.parse(outcome.resultJson) };
    } catch {
      return { status: 'failed', error: { code: 'SANDBOX.INTERNAL', message: 'the sandbox returned a result that is not valid JSON' } };
    }
  };

  const stoppedOutcome = (reason: 'cancelled' | 'timeout', run: ActiveRun, note = ''): SandboxOutcome =>
    reason === 'cancelled'
      ? { status: 'cancelled', error: { code: 'SANDBOX.CANCELLED', message: `the run was cancelled${note}` } }
      : {
          status: 'timed_out',
          error: {
            code: 'SANDBOX.TIMEOUT',
            message: `script did not finish within ${run.request.limits.timeoutMs} ms (limits.timeoutMs) and was stopped${note}`,
          },
        };

  const settle = (run: ActiveRun, outcome: SandboxOutcome): void => {
    if (run.settled) return;
    run.settled = true;
    for (const t of run.timers) clearTimeout(t);
    if (run.onAbort) run.signal?.removeEventListener('abort', run.onAbort);
    run.child?.runs.delete(run.id);
    const child = run.child ?? run.ownChild;
    if (child && (child.retiring || child.dedicatedTo === run)) retire(child);
    const queued = queue.indexOf(run);
    if (queued >= 0) queue.splice(queued, 1);
    run.resolve(outcome);
    pump();
  };

  /** Tells the child to stop the run; SIGKILLs the child if it has not answered in time. */
  const stop = (run: ActiveRun, reason: 'cancelled' | 'timeout'): void => {
    if (run.settled) return;
    if (!run.child) {
      settle(run, stoppedOutcome(reason, run));
      return;
    }
    if (run.stopping) return;
    run.stopping = reason;
    const child = run.child;
    const toldMs = Date.now();
    child.process.send({ t: 'abort', id: run.id, reason });
    run.timers.push(
      setTimeout(() => {
        if (run.settled) return;
        // A child that answered a ping since reading the abort is alive: it is this run's isolate
        // that does not end, so the run is the culprit; a silent child says nothing about who.
        const answering = child.lastPongMs > toldMs;
        logger.warn({ pid: child.process.pid, runId: run.request.scope.runId, answering }, 'sandbox process did not stop a run in time; killing it');
        kill(child, answering ? { kind: 'stuck', runId: run.id } : { kind: 'unresponsive', silentMs: Date.now() - child.lastPongMs });
      }, abortGraceMs),
    );
  };

  let lastWatchMs = Date.now();
  /** Pings every child, reads its memory, kills the over-cap and the silent, recycles the idle that grew. */
  const watch = (): void => {
    const now = Date.now();
    // After a stall of this process, pongs already sent are read only after this tick: judge no silence now.
    const stalled = now - lastWatchMs > 4 * WATCH_MS;
    lastWatchMs = now;
    for (const entry of [...pool]) {
      if (!entry.process.ready || entry.killed) continue;
      const rss = residentBytes(entry.process.pid) ?? entry.reportedRss;
      // (A child that never ran anything and is over the cap means a cap below a bare process:
      // killing it would only fork the next one.)
      if (rss !== undefined && rss > childMemoryMb * MB && entry.started > 0) {
        kill(entry, { kind: 'memory', rssBytes: rss });
        continue;
      }
      if (!stalled && now - entry.lastPongMs > unresponsiveMs) {
        kill(entry, { kind: 'unresponsive', silentMs: now - entry.lastPongMs });
        continue;
      }
      // Children keep what their runs grew (malloc arenas, ICU caches): replace a big idle one
      // (one that ran something: a fresh child over the threshold would be replaced forever).
      if (entry.runs.size === 0 && entry.started > 0 && !entry.retiring && !entry.dedicatedTo && rss !== undefined && rss > recycleRssBytes) {
        retire(entry, `idle at ${Math.round(rss / MB)} MB (VEER_SANDBOX_RECYCLE_RSS_MB)`);
        continue;
      }
      entry.process.send({ t: 'ping', seq: ++entry.pings });
    }
  };
  const watcher = setInterval(watch, WATCH_MS);
  watcher.unref();

  const pump = (): void => {
    while (queue.length > 0 && !closed) {
      let best: PoolChild | undefined;
      for (const c of pool) {
        if (!c.process.ready || c.retiring || c.dedicatedTo || c.runs.size >= options.runsPerProcess) continue;
        if (!best || c.runs.size < best.runs.size) best = c;
      }
      if (!best) return;
      const run = queue.shift()!;
      dispatch(run, best);
    }
  };

  const dispatch = (run: ActiveRun, child: PoolChild): void => {
    run.child = child;
    child.runs.set(run.id, run);
    if (++child.started >= recycleRuns && !child.dedicatedTo) retire(child, `ran ${child.started} runs (VEER_SANDBOX_RECYCLE_RUNS)`);
    sendRun(run, child);
    // The child enforces the deadline itself; this catches a child too busy or broken to do so.
    run.timers.push(setTimeout(() => stop(run, 'timeout'), run.request.limits.timeoutMs + PARENT_DEADLINE_SLACK_MS));
  };

  /** The run message; the code only when this child was not sent it lately (it caches code per key). */
  const sendRun = (run: ActiveRun, child: PoolChild): void => {
    const { code, context, limits } = run.request;
    const cached = child.codeKeys.has(run.codeKey);
    child.codeKeys.delete(run.codeKey);
    child.codeKeys.add(run.codeKey);
    if (child.codeKeys.size > CODE_CACHE_ENTRIES) child.codeKeys.delete(child.codeKeys.values().next().value!);
    if (cached) stats.codeOmitted++;
    else stats.codeSent++;
    child.process.send({
      t: 'run',
      id: run.id,
      codeKey: run.codeKey,
      ...(cached ? {} : { code }),
      ...(options.isolateReuse ? { reuse: options.isolateReuse } : {}),
      context,
      limits,
      capabilities: Object.fromEntries(
        Object.entries(run.capabilities).map(([name, cap]) => [name, Object.keys(cap).filter((m) => typeof cap[m] === 'function')]),
      ),
      settings: run.settings,
    });
  };

  for (let i = 0; i < options.processes; i++) spawn();

  return {
    stats: () => ({ ...stats }),
    processIds: () => pool.flatMap((c) => (c.process.pid !== undefined && !c.process.exited ? [c.process.pid] : [])),

    run: (request, signal) =>
      new Promise<SandboxOutcome>((resolve) => {
        const invalid = (message: string) => resolve({ status: 'failed', error: { code: 'SANDBOX.INVALID_REQUEST', message } as RunError });
        if (closed) return resolve({ status: 'cancelled', error: { code: 'SANDBOX.CLOSED', message: 'the sandbox is shut down' } });
        const capabilities = request.capabilities ?? {};
        const clash = Object.keys(capabilities).find((name) => RESERVED_CTX_NAMES.includes(name));
        if (clash) return invalid(`capability name '${clash}' is reserved in ctx (${RESERVED_CTX_NAMES.join(', ')})`);
        const run: ActiveRun = {
          id: ++nextRunId,
          request,
          codeKey: keyOf(request.context.workflow, request.code),
          capabilities,
          settings: {
            maxLogEntries: request.limits.maxLogEntries ?? maxLogEntries,
            maxLogMessageChars,
            maxLogFieldsChars: MAX_LOG_FIELDS_CHARS,
            maxHostArgsChars: MAX_HOST_ARGS_CHARS,
          },
          signal,
          resolve,
          timers: [],
          logs: 0,
          hostCalls: 0,
          settled: false,
        };
        if (signal?.aborted) return settle(run, stoppedOutcome('cancelled', run));
        if (signal) {
          run.onAbort = () => stop(run, 'cancelled');
          signal.addEventListener('abort', run.onAbort, { once: true });
        }
        if (takeSuspect(request.scope.runId)) {
          // Re-run of a suspect: a process of its own, so that whatever happens there is its own doing.
          run.ownChild = spawn(run);
          return;
        }
        queue.push(run);
        pump();
      }),

    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(watcher);
      for (const run of [...queue]) settle(run, stoppedOutcome('cancelled', run, ' (the sandbox was shut down)'));
      // A suspect waiting for its own process is in no child's runs yet.
      const waiting = pool.flatMap((child) => (child.dedicatedTo ? [child.dedicatedTo] : []));
      for (const run of [...pool.flatMap((child) => [...child.runs.values()]), ...waiting])
        settle(run, stoppedOutcome('cancelled', run, ' (the sandbox was shut down)'));
      await Promise.all([...pool].map((child) => child.process.stop(abortGraceMs)));
    },
  };
}

/**
 * Entry point of a sandbox child process (forked by isolated-host.ts with --no-node-snapshot).
 * It runs scripts in isolates on the parent's behalf and holds nothing else: no config, no
 * clients, no secrets in its environment. If it dies, the parent fails its runs and forks anew.
 */
import { startIsolateRun, type IsolateRun } from './isolate-run.ts';
import type { ChildMessage, ParentMessage } from './protocol.ts';

const runs = new Map<number, IsolateRun>();

function post(message: ChildMessage): void {
  if (process.connected) process.send?.(message);
}

process.on('message', (raw) => {
  const msg = raw as ParentMessage;
  if (msg.t === 'run') {
    if (runs.has(msg.id)) return;
    const run = startIsolateRun({
      code: msg.code,
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
      post({ t: 'done', id: msg.id, outcome });
    });
  } else if (msg.t === 'host-result') {
    const run = runs.get(msg.id);
    if (!run) return;
    if (msg.ok) run.deliver(msg.callId, true, msg.json);
    else run.deliver(msg.callId, false, msg.message, msg.code);
  } else if (msg.t === 'abort') {
    runs.get(msg.id)?.abort(msg.reason);
  } else if (msg.t === 'ping') {
    post({ t: 'pong', seq: msg.seq, rssBytes: process.memoryUsage.rss() });
  }
});

// The parent is gone (or closed the channel): nobody will read our results.
process.on('disconnect', () => process.exit(0));

post({ t: 'ready', pid: process.pid });

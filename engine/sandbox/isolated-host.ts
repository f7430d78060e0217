import type { Logger } from '../shared/logger.ts';
import type { LogLevel, RunError } from '../domain/run.ts';
import type { Capabilities } from './capabilities.ts';
import type { SandboxHost, SandboxOutcome, SandboxRequest } from '../ports/sandbox-host.ts';
import { RESERVED_CTX_NAMES, type ChildMessage, type ChildOutcome, type RunSettings } from './protocol.ts';
import { forkSandboxChild, type ChildExit, type SandboxChild } from './sandbox-child.ts';

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
}

/** The isolated SandboxHost, plus what operators (and tests) may want to see of the pool. */
export interface IsolatedSandbox extends SandboxHost {
  /** PIDs of the live child processes. */
  processIds: () => number[];
}

interface ActiveRun {
  id: number;
  request: SandboxRequest;
  capabilities: Capabilities;
  settings: RunSettings;
  signal?: AbortSignal;
  onAbort?: () => void;
  resolve: (outcome: SandboxOutcome) => void;
  child?: PoolChild;
  /** Set once the child was told to stop the run; the reason decides the outcome if it must be killed. */
  stopping?: 'cancelled' | 'timeout';
  timers: NodeJS.Timeout[];
  logs: number;
  settled: boolean;
}

interface PoolChild {
  process: SandboxChild;
  runs: Map<number, ActiveRun>;
}

const MAX_LOG_FIELDS_CHARS = 16 * 1024;
const MAX_HOST_ARGS_CHARS = 1024 * 1024;
// Forking a child and loading isolated-vm takes a few hundred ms on a busy machine; the parent's
// own deadline only backs up the child's, so it is generous.
const PARENT_DEADLINE_SLACK_MS = 2000;

/**
 * The production SandboxHost: a supervised pool of child processes, each running scripts in
 * fresh isolated-vm isolates (engine/sandbox/child-main.ts). A child that dies — V8 aborts the
 * whole process on some allocations whatever the memory limit — fails only its own runs, as
 * SANDBOX.CRASHED, and is replaced; everything else keeps running.
 */
export function createIsolatedSandbox(options: IsolatedSandboxOptions): IsolatedSandbox {
  const logger = options.logger;
  const maxLogEntries = options.maxLogEntries ?? 1000;
  const maxLogMessageChars = options.maxLogMessageChars ?? 8192;
  const abortGraceMs = options.abortGraceMs ?? 1000;
  const pool: PoolChild[] = [];
  const queue: ActiveRun[] = [];
  let nextRunId = 0;
  let closed = false;
  let startFailures = 0;

  const spawn = (): void => {
    const entry: PoolChild = {
      runs: new Map(),
      process: forkSandboxChild({
        execArgv: options.childExecArgv,
        env: options.childEnv,
        onReady: () => {
          startFailures = 0;
          logger.debug({ pid: entry.process.pid }, 'sandbox process ready');
          pump();
        },
        onMessage: (message) => onChildMessage(entry, message),
        onExit: (exit) => onChildExit(entry, exit),
      }),
    };
    pool.push(entry);
  };

  const onChildExit = (entry: PoolChild, exit: ChildExit): void => {
    pool.splice(pool.indexOf(entry), 1);
    if (closed) return;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    logger.warn(
      { pid: entry.process.pid, code: exit.code, signal: exit.signal, runs: entry.runs.size, stderr: exit.stderr.slice(-1000) },
      `sandbox process ${how}; starting a replacement`,
    );
    for (const run of [...entry.runs.values()]) {
      if (run.stopping) {
        settle(run, stoppedOutcome(run.stopping, run, ' (the sandbox process did not stop it in time and was killed)'));
      } else {
        const hint = /memory|allocation|invalid (array|string|size)/i.test(exit.stderr) ? ' after running out of memory' : '';
        settle(run, {
          status: 'failed',
          error: {
            code: 'SANDBOX.CRASHED',
            message: `the sandbox process running this script ${how}${hint}; a script in that process may have made a huge allocation (e.g. new Array(1e9).fill(0)). The process was replaced`,
          },
        });
      }
    }
    if (!exit.wasReady) startFailures++;
    // A child that cannot even start (broken install) would otherwise be re-forked in a tight loop.
    const delay = startFailures === 0 ? 0 : Math.min(5000, 100 * 2 ** startFailures);
    if (startFailures >= 3) failQueue(`sandbox processes fail to start (${how}): ${exit.stderr.slice(-500) || 'no output'}`);
    const timer = setTimeout(() => {
      if (!closed) spawn();
    }, delay);
    timer.unref();
  };

  const failQueue = (message: string): void => {
    for (const run of queue.splice(0)) settle(run, { status: 'failed', error: { code: 'SANDBOX.UNAVAILABLE', message } });
  };

  const onChildMessage = (entry: PoolChild, message: ChildMessage): void => {
    if (message.t === 'ready') return;
    const run = entry.runs.get(message.id);
    if (!run || run.settled) return;
    if (message.t === 'done') settle(run, fromChild(message.outcome));
    else if (message.t === 'log') onLog(run, message.level, message.message, message.fields);
    else if (message.t === 'host-call') void hostCall(run, entry, message.callId, message.capability, message.method, message.args);
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
    const cap = Object.hasOwn(run.capabilities, capability) ? run.capabilities[capability] : undefined;
    const fn = cap && Object.hasOwn(cap, method) ? cap[method] : undefined;
    let reply: { ok: true; json: string | undefined } | { ok: false; message: string; code: string | undefined };
    try {
      if (typeof fn !== 'function')
        throw Object.assign(new Error(`ctx.${capability}.${method} is not available to this run`), { code: 'SANDBOX.NO_SUCH_CAPABILITY' });
      const parsed: unknown = JSON.parse(argsJson);
      const args = Array.isArray(parsed) ? parsed : [];
      const value = await fn(run.request.scope, ...args);
      reply = { ok: true, json: value === undefined ? undefined : JSON.stringify(value) };
    } catch (err) {
      const e = err as { message?: unknown; code?: unknown };
      reply = {
        ok: false,
        message: typeof e?.message === 'string' ? e.message : String(err),
        code: typeof e?.code === 'string' ? e.code : undefined,
      };
    }
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
    child.process.send({ t: 'abort', id: run.id, reason });
    run.timers.push(
      setTimeout(() => {
        if (run.settled) return;
        logger.warn({ pid: child.process.pid, runId: run.request.scope.runId }, 'sandbox process did not stop a run in time; killing it');
        // The exit handler settles this run with `reason` and the child's other runs as crashed.
        child.process.kill();
      }, abortGraceMs),
    );
  };

  const pump = (): void => {
    while (queue.length > 0 && !closed) {
      let best: PoolChild | undefined;
      for (const c of pool) {
        if (!c.process.ready || c.runs.size >= options.runsPerProcess) continue;
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
    const { code, context, limits } = run.request;
    child.process.send({
      t: 'run',
      id: run.id,
      code,
      context,
      limits,
      capabilities: Object.fromEntries(
        Object.entries(run.capabilities).map(([name, cap]) => [name, Object.keys(cap).filter((m) => typeof cap[m] === 'function')]),
      ),
      settings: run.settings,
    });
    // The child enforces the deadline itself; this catches a child too busy or broken to do so.
    run.timers.push(setTimeout(() => stop(run, 'timeout'), limits.timeoutMs + PARENT_DEADLINE_SLACK_MS));
  };

  for (let i = 0; i < options.processes; i++) spawn();

  return {
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
          settled: false,
        };
        if (signal?.aborted) return settle(run, stoppedOutcome('cancelled', run));
        if (signal) {
          run.onAbort = () => stop(run, 'cancelled');
          signal.addEventListener('abort', run.onAbort, { once: true });
        }
        queue.push(run);
        pump();
      }),

    close: async () => {
      if (closed) return;
      closed = true;
      for (const run of [...queue]) settle(run, stoppedOutcome('cancelled', run, ' (the sandbox was shut down)'));
      for (const child of pool) for (const run of [...child.runs.values()]) settle(run, stoppedOutcome('cancelled', run, ' (the sandbox was shut down)'));
      await Promise.all(pool.map((child) => child.process.stop(abortGraceMs)));
    },
  };
}

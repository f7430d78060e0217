import { randomUUID } from 'node:crypto';
import ivm from 'isolated-vm';
import type { LogLevel } from '../domain/run.ts';
import type { BridgeSetup } from './bridge.ts';
import { compileModuleCached, type CodeCache, type CodeEntry } from './code-cache.ts';
import type { IsolateLease } from './isolate-pool.ts';
import type { PreparedContext } from './prepared-context.ts';
import type { SandboxContextData, SandboxLimits } from '../ports/sandbox-host.ts';
import { LOG_LEVELS, SCRIPT_FILENAME, type ChildOutcome, type RunSettings } from './protocol.ts';
import { compileRunError, scriptRunError, type RawScriptError } from './script-error.ts';
import { replayScript } from './top-level-replay.ts';

/**
 * One script execution in a fresh context — of a fresh isolate, or of one that ran this same
 * workflow version before when reuse is on (isolate-pool.ts) — inside a sandbox child process.
 */
export interface IsolateRunOptions {
  /** The script's code, from the child's code cache (which also holds its V8 cachedData). */
  entry: CodeEntry;
  cache: CodeCache;
  /** The isolate to run in; ended (kept or disposed) when the run is over. */
  lease: IsolateLease;
  context: SandboxContextData;
  limits: SandboxLimits;
  capabilities: Record<string, string[]>;
  settings: RunSettings;
  /** The script called ctx.<capability>.<method>; answer with `deliver`. */
  onHostCall: (callId: number, capability: string, method: string, argsJson: string) => void;
  onLog: (level: LogLevel, message: string, fieldsJson: string | undefined) => void;
}

export interface IsolateRun {
  done: Promise<ChildOutcome>;
  /** Whether the run got an isolate that ran this version before. */
  reused: boolean;
  /** Whether the run got a spare: a fresh isolate made before it (spare-isolate.ts). */
  spare: boolean;
  /** Disposes the isolate, whatever it is doing; `done` then settles with this reason. */
  abort: (reason: 'cancelled' | 'timeout') => void;
  /** Settles a pending host call inside the isolate (`payload`: JSON if ok, else the message). */
  deliver: (callId: number, ok: boolean, payload: string | undefined, code?: string) => void;
  /** What the run is waiting for now (e.g. `compile`, `main`): named on stderr when a stop does not end it. */
  waitingFor: () => string;
}

const CPU_POLL_MS = 10;
/**
 * Output caps inside the isolate. Errors: a name is a word, a message a paragraph, a stack a
 * screenful of frames; a script could otherwise put 200 MB in a run record. Depth: the host's
 * JSON encoder recurses, and a result nested ~10k levels deep made it throw after the run had
 * finished, leaving the run `running`; no real result comes near 100 levels.
 */
const MAX_ERROR_NAME_CHARS = 256;
const MAX_ERROR_MESSAGE_CHARS = 8 * 1024;
const MAX_ERROR_STACK_CHARS = 16 * 1024;
const MAX_JSON_DEPTH = 100;
/** Locale-specific formatting calls per run (each builds ICU data outside the heap limit). */
const MAX_LOCALE_CALLS = 1000;
/**
 * How long reading a thrown value (getters, toString, prepareStackTrace) may take. isolated-vm's
 * limit is wall-clock time: a legitimate 100 MB message takes ~100 ms to cut on an idle machine
 * and several times that on a loaded one (measured beside ../shared/tools/cpu-load), so the bound
 * is generous; it only has to stop a getter that never returns.
 */
const ERROR_READ_MS = 1000;
// Timers longer than this overflow Node's 32-bit delay; sleeps are bounded by the deadline anyway.
const MAX_TIMER_MS = 2_147_483_647;

type Failure = Extract<ChildOutcome, { error: unknown }>;

export function startIsolateRun(o: IsolateRunOptions): IsolateRun {
  const { limits, settings, lease } = o;
  const code = o.entry.code;
  let ending: Failure | undefined;
  const isolate = lease.isolate;
  // isolate.cpuTime counts from the isolate's creation: a reused isolate's earlier runs are not
  // this run's, nor is a spare's set-up. Reset once the context is ready (below), so every run,
  // on a spare or not, is charged from the same point.
  let cpuStart = isolate.cpuTime;
  const cpuUsedNs = () => isolate.cpuTime - cpuStart;
  /** Set once the run is over: later deliveries or stops must not touch an isolate another run may hold. */
  let finished = false;
  const dispose = () => {
    if (!finished && !isolate.isDisposed) isolate.dispose();
  };
  let ended!: (outcome: Failure) => void;
  const endedEarly = new Promise<Failure>((resolve) => {
    ended = resolve;
  });
  /** A promise settled from `onSend`, i.e. by the bridge, with primitives only. */
  const signal = <T>() => {
    let fire!: (value: T) => void;
    const promise = new Promise<T>((resolve) => {
      fire = resolve;
    });
    return { promise, fire };
  };
  const scriptDone = signal<string>();
  const moduleLoaded = signal<void>();
  const mainSettled = signal<'value' | 'error' | 'invalid'>();
  let loaded = false;
  let pastModule = false;
  /** The await the run is in; a run that does not end when stopped is named with it (child-main.ts). */
  let waitingFor = 'prepare';
  // Unguessable per run: the sentinel is never confused with anything a script rejects with.
  // (The hook's global name is per context: prepared-context.ts.)
  const sentinel = `veer:sentinel:${randomUUID()}`;
  const stop = (outcome: Failure) => {
    ending ??= outcome;
    dispose();
    ended(ending);
  };
  /** Waits for `p` unless the run is being stopped (deadline, CPU, memory, cancel). */
  const unlessStopped = <T>(p: Promise<T>): Promise<T | Failure> => Promise.race([p, endedEarly]);
  /** Every call into the isolate rejects with the sentinel (see bridge.ts); anything else is real. */
  const isSentinel = (err: unknown) => err === sentinel || (err instanceof Error && err.message === sentinel);
  const ignoreSentinel = (err: unknown): void => {
    if (!isSentinel(err)) throw err;
  };
  const memoryLimit = (): Failure => ({
    status: 'failed',
    error: { code: 'SANDBOX.MEMORY_LIMIT', message: `script exceeded the memory limit of ${limits.memoryMb} MB (limits.memoryMb) and was stopped` },
  });

  /** Set while the host waits for a module whose top-level await is still pending. */
  let awaitingModule = false;
  const timeout = (): Failure => ({
    status: 'timed_out',
    error: {
      code: 'SANDBOX.TIMEOUT',
      message: awaitingModule
        ? `script did not finish loading within ${limits.timeoutMs} ms (limits.timeoutMs): its top-level await never settled (or threw after awaiting), so the default export never ran`
        : `script did not finish within ${limits.timeoutMs} ms (limits.timeoutMs) and was stopped`,
    },
  });
  const cpuLimit = (): Failure => ({
    status: 'timed_out',
    error: { code: 'SANDBOX.CPU_LIMIT', message: `script used more than ${limits.cpuMs} ms of CPU time (limits.cpuMs) and was stopped` },
  });

  const deadline = setTimeout(() => stop(timeout()), limits.timeoutMs);
  const cpuBudgetNs = BigInt(Math.round(limits.cpuMs * 1e6));
  const cpuPoll = setInterval(() => {
    // Only the memory limit disposes an isolate on its own; everything else goes through stop().
    if (isolate.isDisposed) stop(memoryLimit());
    else if (cpuUsedNs() > cpuBudgetNs) stop(cpuLimit());
  }, CPU_POLL_MS);

  const allowed = new Map(Object.entries(o.capabilities).map(([name, methods]) => [name, new Set(methods)]));
  const sleeps = new Map<number, NodeJS.Timeout>();
  let logsSent = 0;
  let dropped = 0;
  let dispatch: ivm.Reference<(...args: unknown[]) => unknown> | undefined;

  const deliver = (callId: number, ok: boolean, payload: string | undefined, code?: string) => {
    if (!dispatch || finished || isolate.isDisposed) return;
    // The script's continuation runs inside this call, so this is where it can run out of memory.
    dispatch.apply(undefined, ['deliver', callId, ok, payload, code]).catch((err: unknown) => {
      if (err instanceof Error && /memory limit/i.test(err.message)) stop(memoryLimit());
      else if (err instanceof Error && /Script execution timed out/.test(err.message)) stop(cpuLimit());
    });
  };

  // Everything the isolate can tell the child goes through here, as primitives. It runs on the
  // child's main thread (a synchronous Callback, so log order is kept), checks every value, and
  // never throws: a script that somehow called it directly could do no more than via ctx.
  const onSend = (kind: unknown, a: unknown, b: unknown, c: unknown, d: unknown): void => {
    if (ending) return;
    if (kind === 'log') {
      if (!LOG_LEVELS.includes(a as LogLevel) || typeof b !== 'string' || (c !== undefined && typeof c !== 'string')) return;
      if (logsSent >= settings.maxLogEntries) {
        dropped++;
        return;
      }
      logsSent++;
      o.onLog(a as LogLevel, b, c as string | undefined);
    } else if (kind === 'done') {
      if (typeof a === 'string') scriptDone.fire(a);
    } else if (kind === 'settled') {
      if (a === 'value' || a === 'error' || a === 'invalid') mainSettled.fire(a);
    } else if (kind === 'loaded') {
      loaded = true;
      moduleLoaded.fire();
    } else if (kind === 'after') {
      pastModule = true;
    } else if (kind === 'dropped') {
      if (typeof a === 'number' && a > dropped) dropped = a;
    } else if (kind === 'call') {
      if (typeof a !== 'number' || typeof b !== 'string' || typeof c !== 'string' || typeof d !== 'string') return;
      if (!allowed.get(b)?.has(c)) {
        deliver(a, false, `ctx.${b}.${c} is not available to this run`, 'SANDBOX.NO_SUCH_CAPABILITY');
        return;
      }
      o.onHostCall(a, b, c, d);
    } else if (kind === 'sleep') {
      if (typeof a !== 'number' || typeof b !== 'number' || sleeps.has(a)) return;
      sleeps.set(
        a,
        setTimeout(
          () => {
            sleeps.delete(a);
            deliver(a, true, undefined);
          },
          Math.min(b, limits.timeoutMs + 1000, MAX_TIMER_MS),
        ),
      );
    }
  };

  const setupFor = (hookKey: string): BridgeSetup => ({
    context: JSON.stringify({ input: o.context.input ?? null, env: o.context.env, workflow: o.context.workflow, run: o.context.run }),
    capabilities: Object.entries(o.capabilities),
    maxLogEntries: settings.maxLogEntries,
    maxLogMessageChars: settings.maxLogMessageChars,
    maxLogFieldsChars: settings.maxLogFieldsChars,
    maxHostArgsChars: settings.maxHostArgsChars,
    maxResultChars: limits.maxResultBytes,
    maxJsonDepth: MAX_JSON_DEPTH,
    maxErrorNameChars: MAX_ERROR_NAME_CHARS,
    maxErrorMessageChars: MAX_ERROR_MESSAGE_CHARS,
    maxErrorStackChars: MAX_ERROR_STACK_CHARS,
    maxLocaleCalls: MAX_LOCALE_CALLS,
    sentinel,
    hookKey,
  });

  const cpuLeftMs = () => Math.max(1, Math.floor(limits.cpuMs - Number(cpuUsedNs()) / 1e6));

  /**
   * Calls the bridge's dispatcher. Its own answer is always the sentinel (ignored); what it has
   * to say arrives through onSend. Rejects with isolated-vm's timeout or memory errors. Not
   * raced with a stop: a disposed isolate ends the call, and one V8 cannot interrupt (a huge
   * `fill`) ends the process through onCatastrophicError, which the parent reports.
   */
  const call = (kind: string, args: unknown[], timeoutMs: number) =>
    dispatch!.apply(undefined, [kind, ...(args as never[])], { timeout: timeoutMs }).then(() => undefined, ignoreSentinel);

  /** What this run made in the isolate; released at the end so a reused isolate can collect it. */
  let prepared: PreparedContext | undefined;
  const modules: ivm.Module[] = [];
  const execute = async (): Promise<ChildOutcome> => {
    let phase: 'setup' | 'compile' | 'link' | 'evaluate' | 'run' = 'setup';
    try {
      const preparing = lease.prepare();
      // A run stopped meanwhile no longer waits for it; its isolate is disposed, which fails it.
      preparing.catch(() => {});
      const ready = await unlessStopped(preparing);
      waitingFor = 'bridge';
      if (ending) return ending;
      prepared = ready as PreparedContext;
      const { context, bridgeFn, hookKey } = prepared;
      const { root, pre, post, after } = prepared.modules;
      cpuStart = isolate.cpuTime;
      const send = new ivm.Callback(onSend);
      dispatch = (await bridgeFn.apply(undefined, [send, JSON.stringify(setupFor(hookKey))], { result: { reference: true } })) as ivm.Reference<
        (...args: unknown[]) => unknown
      >;
      phase = 'compile';
      waitingFor = 'compile';
      const user = await compileModuleCached(isolate, o.cache, o.entry, SCRIPT_FILENAME);
      modules.push(user);
      phase = 'link';
      if (user.dependencySpecifiers.length > 0) {
        throw new Error(`imports are not available in the sandbox ('${user.dependencySpecifiers[0]}'); use the ctx capabilities instead`);
      }
      waitingFor = 'instantiate';
      const linked: Record<string, ivm.Module> = { 'veer:pre': pre, 'veer:post': post, 'veer:after': after, [SCRIPT_FILENAME]: user };
      await root.instantiate(context, (specifier) => {
        if (!Object.hasOwn(linked, specifier)) throw new Error(`imports are not available in the sandbox ('${specifier}')`);
        return linked[specifier];
      });

      // The user's module runs inside the root's evaluation, after `veer:pre` left the sentinel.
      // With top-level await, evaluate() returns while the module is still pending: the default
      // export is only called once `veer:post` ran, i.e. once the module has finished.
      phase = 'evaluate';
      waitingFor = 'evaluate';
      await root.evaluate({ timeout: limits.cpuMs }).then(() => undefined, ignoreSentinel);
      if (ending) return ending;
      if (!loaded) {
        if (!pastModule) return await topLevelFailure(context);
        // Pending at the end of the call that evaluated it: nothing at load time can settle it
        // later (no timers or ctx there), but it is waited for anyway, up to the deadline.
        awaitingModule = true;
        waitingFor = 'module';
        await unlessStopped(moduleLoaded.promise);
        if (ending) return ending;
        awaitingModule = false;
      }

      phase = 'run';
      waitingFor = 'start';
      await call('start', [], limits.cpuMs);
      if (ending) return ending;
      return await describeOutcome();
    } catch (err) {
      if (ending) return ending;
      const message = err instanceof Error ? err.message : String(err);
      if (/memory limit/i.test(message)) return memoryLimit();
      if (/Script execution timed out/.test(message)) return cpuLimit();
      if (phase === 'setup' || isolate.isDisposed) {
        return {
          status: 'failed',
          error: {
            code: 'SANDBOX.INTERNAL',
            message: `the sandbox failed while ${phase === 'setup' ? 'preparing the isolate' : 'running the script'}: ${message.slice(0, 1000)}`,
          },
        };
      }
      if (phase === 'compile') return { status: 'failed', error: compileRunError('SCRIPT.INVALID', message) };
      if (phase === 'link') return { status: 'failed', error: { code: 'SCRIPT.INVALID', message } };
      // Only the sandbox's own errors get here: script values never leave the isolate by throwing.
      return { status: 'failed', error: { code: 'SANDBOX.INTERNAL', message: `the sandbox failed while running the script: ${message.slice(0, 1000)}` } };
    }
  };

  /** Waits for the default export, then has the bridge turn its outcome into a bounded string. */
  const describeOutcome = async (): Promise<ChildOutcome> => {
    waitingFor = 'main';
    const kind = await unlessStopped(mainSettled.promise);
    waitingFor = 'describe';
    if (ending) return ending;
    // Reading a result or an error runs the script's getters, toJSON and toString: in a call of
    // its own with a time limit, so a getter that never returns ends the run, not the child.
    const readMs = kind === 'error' ? Math.min(cpuLeftMs(), ERROR_READ_MS) : cpuLeftMs();
    try {
      await call('describe', [], readMs);
    } catch (err) {
      if (ending) return ending;
      if (!(err instanceof Error) || !/Script execution timed out/.test(err.message)) throw err;
      return kind === 'error'
        ? {
            status: 'failed',
            error: {
              code: 'SCRIPT.ERROR',
              message: `the script threw a value whose properties could not be read within ${readMs} ms (a getter, toString or Proxy that does not return)`,
            },
          }
        : unserialisable(`encoding it did not finish within ${readMs} ms of CPU time (a getter or toJSON that does not return)`);
    }
    if (ending) return ending;
    waitingFor = 'result';
    const out = await unlessStopped(scriptDone.promise);
    if (ending) return ending;
    return toOutcome(out as string);
  };

  /**
   * The user's module threw while loading. The value it threw never leaves the isolate, so the
   * error is read by running the top-level code once more, as a function the bridge calls and
   * catches (top-level-replay.ts); what it throws is read like any other error.
   */
  const topLevelFailure = async (context: ivm.Context): Promise<ChildOutcome> => {
    const unreadable: Failure = {
      status: 'failed',
      error: {
        code: 'SCRIPT.ERROR',
        message: 'the script threw while its module was loading (top-level code, outside the default export), and the error could not be read',
      },
    };
    const replay = replayScript(code, (text) => {
      try {
        isolate.compileScriptSync(text, { filename: SCRIPT_FILENAME }).release();
        return undefined;
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    });
    if (!replay) return unreadable;
    const script = await isolate.compileScript(replay.text, { filename: SCRIPT_FILENAME });
    const fn = (await script.run(context, { reference: true, timeout: limits.cpuMs })) as ivm.Reference;
    await call('replay', [fn.derefInto()], limits.cpuMs);
    if (ending) return ending;
    const outcome = await describeOutcome();
    if (outcome.status !== 'failed') return outcome.status === 'succeeded' ? unreadable : outcome;
    if (outcome.error.code !== 'SCRIPT.ERROR') return outcome.error.code === 'SCRIPT.INVALID' ? unreadable : outcome;
    const error = { ...outcome.error };
    // The replay's first line starts with the wrapper: positions there are shifted by it.
    if (error.line === 1 && error.column !== undefined) error.column = Math.max(1, error.column - replay.firstLineShift);
    if (error.stack) error.stack = shiftFirstLine(error.stack, replay.firstLineShift);
    return { status: 'failed', error };
  };

  const toOutcome = (out: string): ChildOutcome => {
    const tag = out[0];
    const body = out.slice(1);
    if (tag === 'R') {
      const bytes = Buffer.byteLength(body);
      if (bytes > limits.maxResultBytes) return tooLarge(`${bytes} bytes`);
      return { status: 'succeeded', resultJson: body === '' ? undefined : body };
    }
    if (tag === 'T') return tooLarge(`at least ${body} bytes`);
    if (tag === 'U') return unserialisable(body);
    if (tag === 'I') return { status: 'failed', error: { code: 'SCRIPT.INVALID', message: body } };
    let raw: RawScriptError = {};
    try {
      raw = JSON.parse(body) as RawScriptError;
    } catch {
      raw = { message: 'the script failed with an unreadable error' };
    }
    // isolated-vm refuses an ArrayBuffer (or typed array) that would pass the limit with this
    // RangeError instead of stopping the isolate: uncaught, it is the memory limit.
    if (raw.name === 'RangeError' && raw.message === 'Array buffer allocation failed') return memoryLimit();
    return { status: 'failed', error: scriptRunError('SCRIPT.ERROR', raw) };
  };

  const tooLarge = (size: string): Failure => ({
    status: 'failed',
    error: {
      code: 'SANDBOX.RESULT_TOO_LARGE',
      message: `the script's result is ${size} of JSON, more than the limit of ${limits.maxResultBytes} bytes (limits.maxResultBytes)`,
    },
  });

  const unserialisable = (why: string): Failure => ({
    status: 'failed',
    error: { code: 'RESULT.UNSERIALISABLE', message: `the script's result cannot be stored as JSON: ${why}` },
  });

  const finish = async (outcome: ChildOutcome): Promise<ChildOutcome> => {
    clearTimeout(deadline);
    clearInterval(cpuPoll);
    for (const t of sleeps.values()) clearTimeout(t);
    sleeps.clear();
    // The bridge counts dropped log calls itself (reporting only at powers of two); ask it for
    // the exact count while the isolate is still alive.
    waitingFor = 'finish';
    const exact = !ending && !isolate.isDisposed && dispatch !== undefined;
    if (exact) await dispatch!.apply(undefined, ['dropped'], { timeout: 100 }).catch(() => undefined);
    // Only a run that succeeded untouched may leave its isolate to the next run of its version:
    // after a limit, deadline, cancel or any error, what the isolate holds is not known to be clean.
    const clean = outcome.status === 'succeeded' && !ending && !isolate.isDisposed;
    if (!clean) dispose();
    finished = true;
    for (const m of modules) m.release();
    dispatch?.release();
    prepared?.release();
    lease.end(clean);
    if (dropped > 0) {
      o.onLog('warn', `log limit of ${settings.maxLogEntries} entries reached: ${exact ? '' : 'at least '}${dropped} further entries were dropped`, undefined);
    }
    return outcome;
  };
  const done = execute().then(finish);

  return {
    done,
    reused: lease.runsBefore > 0,
    spare: lease.spare,
    abort: (reason) => stop(reason === 'timeout' ? timeout() : { status: 'cancelled', error: { code: 'SANDBOX.CANCELLED', message: 'the run was cancelled' } }),
    deliver,
    waitingFor: () => `${waitingFor}${isolate.isDisposed ? ' (isolate disposed)' : ''}`,
  };
}

/** `script:1:<column>` positions in a stack, moved left by `shift`. */
function shiftFirstLine(stack: string, shift: number): string {
  const marker = `${SCRIPT_FILENAME}:1:`;
  let out = '';
  let from = 0;
  for (let at = stack.indexOf(marker); at >= 0; at = stack.indexOf(marker, from)) {
    let end = at + marker.length;
    while (end < stack.length && stack.charCodeAt(end) >= 48 && stack.charCodeAt(end) <= 57) end++;
    const column = Number(stack.slice(at + marker.length, end));
    out += stack.slice(from, at) + marker + (end > at + marker.length ? Math.max(1, column - shift) : '');
    from = end;
  }
  return out + stack.slice(from);
}

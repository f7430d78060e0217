import ivm from 'isolated-vm';
import type { LogLevel } from '../domain/run.ts';
import { bridgeSource, type BridgeSetup } from './bridge.ts';
import type { SandboxContextData, SandboxLimits } from '../ports/sandbox-host.ts';
import { LOG_LEVELS, SCRIPT_FILENAME, type ChildOutcome, type RunSettings } from './protocol.ts';
import { compileRunError, scriptRunError, type RawScriptError } from './script-error.ts';

/** One script execution in a fresh isolate, inside a sandbox child process. */
export interface IsolateRunOptions {
  code: string;
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
  /** Disposes the isolate, whatever it is doing; `done` then settles with this reason. */
  abort: (reason: 'cancelled' | 'timeout') => void;
  /** Settles a pending host call inside the isolate (`payload`: JSON if ok, else the message). */
  deliver: (callId: number, ok: boolean, payload: string | undefined, code?: string) => void;
}

const CPU_POLL_MS = 10;
// Timers longer than this overflow Node's 32-bit delay; sleeps are bounded by the deadline anyway.
const MAX_TIMER_MS = 2_147_483_647;

type Failure = Extract<ChildOutcome, { error: unknown }>;

export function startIsolateRun(o: IsolateRunOptions): IsolateRun {
  const { limits, settings } = o;
  let ending: Failure | undefined;
  const isolate = new ivm.Isolate({
    memoryLimit: limits.memoryMb,
    // isolated-vm's advice: V8 has lost control of the isolate, so the process must go; the
    // parent sees the exit, fails this process's runs as crashed and starts a new process.
    onCatastrophicError: (message) => {
      process.stderr.write(`sandbox: catastrophic isolate error: ${message}\n`);
      process.abort();
    },
  });
  const dispose = () => {
    if (!isolate.isDisposed) isolate.dispose();
  };
  let ended!: (outcome: Failure) => void;
  const endedEarly = new Promise<Failure>((resolve) => {
    ended = resolve;
  });
  let finished!: (out: string) => void;
  const scriptDone = new Promise<string>((resolve) => {
    finished = resolve;
  });
  const stop = (outcome: Failure) => {
    ending ??= outcome;
    dispose();
    ended(ending);
  };
  const memoryLimit = (): Failure => ({
    status: 'failed',
    error: { code: 'SANDBOX.MEMORY_LIMIT', message: `script exceeded the memory limit of ${limits.memoryMb} MB (limits.memoryMb) and was stopped` },
  });

  const timeout = (): Failure => ({
    status: 'timed_out',
    error: { code: 'SANDBOX.TIMEOUT', message: `script did not finish within ${limits.timeoutMs} ms (limits.timeoutMs) and was stopped` },
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
    else if (isolate.cpuTime > cpuBudgetNs) stop(cpuLimit());
  }, CPU_POLL_MS);

  const allowed = new Map(Object.entries(o.capabilities).map(([name, methods]) => [name, new Set(methods)]));
  const sleeps = new Map<number, NodeJS.Timeout>();
  let logsSent = 0;
  let dropped = 0;
  let dispatch: ivm.Reference<(...args: unknown[]) => unknown> | undefined;

  const deliver = (callId: number, ok: boolean, payload: string | undefined, code?: string) => {
    if (!dispatch || isolate.isDisposed) return;
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
      if (typeof a === 'string') finished(a);
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

  const setup: BridgeSetup = {
    context: JSON.stringify({ input: o.context.input ?? null, env: o.context.env, workflow: o.context.workflow, run: o.context.run }),
    capabilities: Object.entries(o.capabilities),
    maxLogEntries: settings.maxLogEntries,
    maxLogMessageChars: settings.maxLogMessageChars,
    maxLogFieldsChars: settings.maxLogFieldsChars,
    maxHostArgsChars: settings.maxHostArgsChars,
    maxResultChars: limits.maxResultBytes,
  };

  const execute = async (): Promise<ChildOutcome> => {
    let phase: 'setup' | 'compile' | 'link' | 'evaluate' | 'run' = 'setup';
    try {
      const context = await isolate.createContext();
      const send = new ivm.Callback(onSend);
      dispatch = await context.evalClosure(bridgeSource(), [send, JSON.stringify(setup)], {
        result: { reference: true },
        filename: 'veer:bridge',
      });
      phase = 'compile';
      const module = await isolate.compileModule(o.code, { filename: SCRIPT_FILENAME });
      phase = 'link';
      await module.instantiate(context, (specifier) => {
        throw new Error(`imports are not available in the sandbox ('${specifier}'); use the ctx capabilities instead`);
      });
      phase = 'evaluate';
      await module.evaluate({ timeout: limits.cpuMs });
      phase = 'run';
      await dispatch.apply(undefined, ['start', module.namespace.derefInto()], { timeout: limits.cpuMs });
      const out = await Promise.race([scriptDone, endedEarly]);
      if (ending) return ending;
      return toOutcome(out as string);
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
            message: `the sandbox failed while ${phase === 'setup' ? 'preparing the isolate' : 'running the script'}: ${message}`,
          },
        };
      }
      if (phase === 'compile') return { status: 'failed', error: compileRunError('SCRIPT.INVALID', message) };
      if (phase === 'link') return { status: 'failed', error: { code: 'SCRIPT.INVALID', message } };
      const e = err as Error;
      return { status: 'failed', error: scriptRunError('SCRIPT.ERROR', { name: e.name, message: e.message, stack: e.stack }) };
    }
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
    if (tag === 'I') return { status: 'failed', error: { code: 'SCRIPT.INVALID', message: body } };
    let raw: RawScriptError = {};
    try {
      raw = JSON.parse(body) as RawScriptError;
    } catch {
      raw = { message: 'the script failed with an unreadable error' };
    }
    return { status: 'failed', error: scriptRunError('SCRIPT.ERROR', raw) };
  };

  const tooLarge = (size: string): Failure => ({
    status: 'failed',
    error: {
      code: 'SANDBOX.RESULT_TOO_LARGE',
      message: `the script's result is ${size} of JSON, more than the limit of ${limits.maxResultBytes} bytes (limits.maxResultBytes)`,
    },
  });

  const finish = async (outcome: ChildOutcome): Promise<ChildOutcome> => {
    clearTimeout(deadline);
    clearInterval(cpuPoll);
    for (const t of sleeps.values()) clearTimeout(t);
    sleeps.clear();
    // The bridge counts dropped log calls itself (reporting only at powers of two); ask it for
    // the exact count while the isolate is still alive.
    const exact = !ending && !isolate.isDisposed && dispatch !== undefined;
    if (exact) {
      const count = await dispatch!.apply(undefined, ['dropped'], { timeout: 100 }).catch(() => 0);
      if (typeof count === 'number' && count > dropped) dropped = count;
    }
    dispose();
    if (dropped > 0) {
      o.onLog('warn', `log limit of ${settings.maxLogEntries} entries reached: ${exact ? '' : 'at least '}${dropped} further entries were dropped`, undefined);
    }
    return outcome;
  };
  const done = execute().then(finish);

  return {
    done,
    abort: (reason) => stop(reason === 'timeout' ? timeout() : { status: 'cancelled', error: { code: 'SANDBOX.CANCELLED', message: 'the run was cancelled' } }),
    deliver,
  };
}

import { Worker } from 'node:worker_threads';
import { ValidationError, VeerError } from '../shared/errors.ts';
import type { CompileReply } from './compile-protocol.ts';

/**
 * Compiles uploads (compile.ts) in a disposable worker thread, so that no upload can affect
 * the next one or the process answering it:
 * - Node's type stripper keeps WASM state that a deeply nested upload once corrupted for the
 *   life of the process (every later upload answered 500); in a worker, any internal error
 *   throws that worker away and the next upload gets a fresh one;
 * - a compile that runs past `timeoutMs` is stopped by terminating its worker;
 * - the worker's heap is capped (`heapMb`), so an upload that exhausts it ends that worker,
 *   not the API;
 * - the API's event loop keeps serving while a compile runs.
 * One compile at a time per compiler (uploads are rare and take ~1–2 ms); an idle worker is
 * stopped after `idleMs` and never holds the process open.
 */
export interface ScriptCompiler {
  /** The code the sandbox runs, or a ValidationError naming `script` (with line and column). */
  compile(source: string): Promise<string>;
  /** Stops the worker; a later compile starts a new one. */
  close(): Promise<void>;
}

export interface ScriptCompilerOptions {
  /** Longest one compile may take, worker start-up included (default 10 s; normal is ~2 ms). */
  timeoutMs?: number;
  /** An idle worker is stopped after this long (default 60 s). */
  idleMs?: number;
  /** The worker's old-generation heap cap (default 256 MB). */
  heapMb?: number;
  /** The worker's entry module (default compile-worker.ts; tests substitute a misbehaving one). */
  workerUrl?: URL;
}

const DEFAULT_WORKER = new URL('./compile-worker.ts', import.meta.url);

export function createScriptCompiler(options: ScriptCompilerOptions = {}): ScriptCompiler {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const idleMs = options.idleMs ?? 60_000;
  const heapMb = options.heapMb ?? 256;
  const workerUrl = options.workerUrl ?? DEFAULT_WORKER;
  let current: { worker: Worker; ready: boolean } | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let nextId = 1;
  let queue: Promise<unknown> = Promise.resolve();
  let closing = false;
  /** Bumped by close(): compiles queued before it end with SANDBOX.CLOSED instead of starting a worker. */
  let generation = 0;

  const discard = (w: { worker: Worker } | undefined) => {
    if (!w) return;
    if (current === w) current = undefined;
    w.worker.removeAllListeners();
    // Errors of a dying worker are expected; one left unhandled would crash the process.
    w.worker.on('error', () => {});
    void w.worker.terminate().catch(() => {});
  };

  const spawn = () => {
    const worker = new Worker(workerUrl, { resourceLimits: { maxOldGenerationSizeMb: heapMb }, stdout: false, stderr: false });
    const w = { worker, ready: false };
    // Between compiles, nothing is listening: a crash of an idle worker just discards it.
    worker.on('error', () => discard(w));
    worker.on('exit', () => discard(w));
    current = w;
    return w;
  };

  const compileOnce = (source: string): Promise<string> => {
    clearTimeout(idleTimer);
    const w = current ?? spawn();
    const { worker } = w;
    worker.ref();
    const id = nextId++;
    return new Promise<string>((resolve, reject) => {
      const settle = (outcome: { code: string } | { error: Error }, recycle: boolean) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (recycle) discard(w);
        else {
          worker.unref();
          idleTimer = setTimeout(() => discard(w), idleMs);
          idleTimer.unref();
        }
        if ('code' in outcome) resolve(outcome.code);
        else reject(outcome.error);
      };
      const onMessage = (reply: CompileReply) => {
        if ('ready' in reply) {
          w.ready = true;
          return;
        }
        if (reply.id !== id) return;
        if (reply.ok) settle({ code: reply.code }, false);
        else if ('invalid' in reply) settle({ error: new ValidationError(reply.invalid.message, reply.invalid.issues) }, false);
        else settle({ error: scriptFault(`the compiler failed on this script (${reply.internal}); it is usually nested too deeply: flatten it`) }, true);
      };
      const onError = (err: Error) => {
        const code = (err as { code?: string }).code;
        if (code === 'ERR_WORKER_OUT_OF_MEMORY') settle({ error: scriptFault('compiling the script ran out of memory; make it smaller or flatter') }, true);
        else if (!w.ready) settle({ error: new VeerError('INTERNAL', `the compile worker failed to start: ${err.message}`, { cause: err }) }, true);
        else settle({ error: scriptFault(`the compiler crashed on this script (${err.message.split('\n', 1)[0].slice(0, 200)})`) }, true);
      };
      const onExit = (exitCode: number) => {
        if (closing) settle({ error: new VeerError('SANDBOX.CLOSED', 'the script compiler is shutting down; upload again') }, true);
        else if (!w.ready) settle({ error: new VeerError('INTERNAL', `the compile worker exited (code ${exitCode}) before it started`) }, true);
        else settle({ error: scriptFault(`the compiler stopped while compiling this script (exit code ${exitCode})`) }, true);
      };
      const timer = setTimeout(
        () => settle({ error: scriptFault(`the script took longer than ${timeoutMs} ms to compile; make it smaller or simpler`) }, true),
        timeoutMs,
      );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ id, source });
    });
  };

  return {
    compile(source) {
      const asked = generation;
      const result = queue.then(() =>
        asked === generation ? compileOnce(source) : Promise.reject(new VeerError('SANDBOX.CLOSED', 'the script compiler is shutting down; upload again')),
      );
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      clearTimeout(idleTimer);
      generation++;
      const w = current;
      if (!w) return;
      // A compile in flight ends with SANDBOX.CLOSED (its exit handler sees `closing`).
      closing = true;
      try {
        await w.worker.terminate().catch(() => {});
      } finally {
        closing = false;
        discard(w);
      }
    },
  };
}

/** A failure the upload caused, in the API's contract for bad scripts: a 400 naming `script`. */
function scriptFault(message: string): ValidationError {
  return new ValidationError(`script: line 1, column 1: ${message}`, [{ path: 'script', message, line: 1, column: 1 }]);
}

let shared: ScriptCompiler | undefined;

/** The process's compiler for uploads (the API's workflow routes use it unless given another). */
export function sharedScriptCompiler(): ScriptCompiler {
  shared ??= createScriptCompiler();
  return shared;
}

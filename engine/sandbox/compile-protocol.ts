import type { MessagePort } from 'node:worker_threads';
import { ValidationError, type Issue } from '../shared/errors.ts';
import { compileScript } from './compile.ts';

/**
 * What script-compiler.ts and its worker thread (compile-worker.ts) say to each other, and the
 * worker's side of it. One request at a time; every request gets exactly one reply.
 */

export interface CompileRequest {
  id: number;
  source: string;
}

export type CompileReply =
  /** Sent once when the worker has loaded: a crash before it is Veer's fault, not the script's. */
  | { ready: true }
  | { id: number; ok: true; code: string }
  /** The script is at fault: a 400 naming `script`; the worker is still sound. */
  | { id: number; ok: false; invalid: { message: string; issues: Issue[] } }
  /** Anything else (the stripper's "memory access out of bounds"): the host recycles the worker. */
  | { id: number; ok: false; internal: string };

/** compileScript, with its outcome as data (errors do not survive postMessage as classes). */
export function answer(request: CompileRequest): CompileReply {
  try {
    return { id: request.id, ok: true, code: compileScript(request.source) };
  } catch (err) {
    if (err instanceof ValidationError) {
      const issues = (err.details as { issues: Issue[] }).issues;
      return { id: request.id, ok: false, invalid: { message: err.message, issues } };
    }
    // A short reason only: an internal error's message may quote the script at length.
    const e = (err ?? {}) as { code?: unknown; message?: unknown };
    const reason = (typeof e.message === 'string' ? e.message : String(err)).split('\n', 1)[0].slice(0, 200);
    return { id: request.id, ok: false, internal: typeof e.code === 'string' ? `${e.code}: ${reason}` : reason };
  }
}

/** The worker's loop: announce readiness, then answer each request with `handle`. */
export function serveCompiles(port: MessagePort, handle: (request: CompileRequest) => CompileReply = answer): void {
  port.on('message', (request: CompileRequest) => port.postMessage(handle(request)));
  port.postMessage({ ready: true } satisfies CompileReply);
}

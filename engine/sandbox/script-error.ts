import type { RunError } from '../domain/run.ts';
import { SCRIPT_FILENAME } from './protocol.ts';

/** An error as the bridge (or isolated-vm) reports it: plain strings read inside the isolate. */
export interface RawScriptError {
  name?: string;
  message?: string;
  stack?: string;
  code?: string;
}

const FRAME = /^\s+at /;
const POSITION = new RegExp(`(?:\\(|at |@)${SCRIPT_FILENAME}:(\\d+):(\\d+)\\)?$`);

/**
 * Turns an error thrown by the script into a RunError whose line/column point into the user's
 * source (compiled code keeps every position) and whose stack only shows the user's frames:
 * bridge and host frames mean nothing to the script's author and would describe the engine.
 */
export function scriptRunError(code: string, raw: RawScriptError): RunError {
  const name = raw.name && raw.name !== 'Error' ? `${raw.name}: ` : '';
  const suffix = raw.code ? ` [${raw.code}]` : '';
  const error: RunError = { code, message: `${name}${raw.message ?? 'unknown error'}${suffix}` };
  if (raw.stack) {
    const lines = raw.stack.split('\n');
    const firstFrame = lines.findIndex((l) => FRAME.test(l));
    const head = firstFrame < 0 ? lines : lines.slice(0, firstFrame);
    const frames = (firstFrame < 0 ? [] : lines.slice(firstFrame)).filter((l) => POSITION.test(l));
    const at = frames.length ? POSITION.exec(frames[0]) : null;
    if (at) {
      error.line = Number(at[1]);
      error.column = Number(at[2]);
    }
    error.stack = [...head, ...frames].join('\n');
  }
  return error;
}

/** `Unexpected token ';' [script:3:13]` (V8's compile errors through isolated-vm). */
export function compileRunError(code: string, message: string): RunError {
  const m = new RegExp(`^(.*) \\[${SCRIPT_FILENAME}:(\\d+):(\\d+)\\]$`, 's').exec(message);
  if (!m) return { code, message };
  return { code, message: `line ${m[2]}, column ${m[3]}: ${m[1]}`, line: Number(m[2]), column: Number(m[3]) };
}

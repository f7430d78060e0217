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
// The bridge caps these inside the isolate already (isolate-run.ts: 256, 8 KiB, 16 KiB, plus a
// "[truncated …]" note); these caps, a little above, keep a run record bounded whatever
// produced the raw error without cutting the bridge's note off.
const NOTE = 100;
const MAX_NAME = 256 + NOTE;
const MAX_MESSAGE = 8 * 1024 + NOTE;
const MAX_STACK = 16 * 1024 + NOTE;
const MAX_CODE = 64;

const cap = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max)} … [truncated: ${s.length} characters, limit ${max}]` : s);
const POSITION = new RegExp(`(?:\\(|at |@)${SCRIPT_FILENAME}:(\\d+):(\\d+)\\)?$`);

/**
 * Turns an error thrown by the script into a RunError whose line/column point into the user's
 * source (compiled code keeps every position) and whose stack only shows the user's frames:
 * bridge and host frames mean nothing to the script's author and would describe the engine.
 */
export function scriptRunError(code: string, raw: RawScriptError): RunError {
  const name = typeof raw.name === 'string' && raw.name && raw.name !== 'Error' ? `${cap(raw.name, MAX_NAME)}: ` : '';
  const suffix = typeof raw.code === 'string' && raw.code && raw.code.length <= MAX_CODE ? ` [${raw.code}]` : '';
  const message = typeof raw.message === 'string' ? cap(raw.message, MAX_MESSAGE) : 'unknown error';
  const error: RunError = { code, message: `${name}${message}${suffix}` };
  if (typeof raw.stack === 'string' && raw.stack) {
    const lines = cap(raw.stack, MAX_STACK).split('\n');
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
export function compileRunError(code: string, text: string): RunError {
  const message = cap(text, MAX_MESSAGE);
  const m = new RegExp(`^(.*) \\[${SCRIPT_FILENAME}:(\\d+):(\\d+)\\]$`, 's').exec(message);
  if (!m) return { code, message };
  return { code, message: `line ${m[2]}, column ${m[3]}: ${m[1]}`, line: Number(m[2]), column: Number(m[3]) };
}

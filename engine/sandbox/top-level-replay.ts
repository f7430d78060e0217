import { SCRIPT_FILENAME } from './protocol.ts';

/**
 * The script's module threw while loading. isolated-vm would read the thrown value itself,
 * outside every limit (bridge.ts), so it never gets to: the error is found by running the
 * module's top-level code again, as the body of an async function that the bridge calls inside
 * try/catch, where reading it is bounded like any other error.
 *
 * `export` is only valid in modules. Each `export` the compiler stops at is blanked out with
 * characters of the same length — `export default X` becomes `0, X`, `export const` becomes
 * `const`, `export { … }` spaces — so every line and column stays where it was; only the first
 * line is shifted, by the wrapper in front of it. Anything else the compiler refuses (e.g.
 * `import.meta`) means there is no replay.
 */
interface Replay {
  /** A classic script whose completion value is the async function. */
  text: string;
  /** Columns on line 1 of `text` are this much to the right of the user's. */
  firstLineShift: number;
}

const PREFIX = "(async function () { 'use strict'; ";
const SUFFIX = '\n})';
/** One compile per `export`; scripts have one or two. */
const MAX_ROUNDS = 32;
const EXPORT_AT = new RegExp(`^Unexpected token 'export' \\[${SCRIPT_FILENAME}:(\\d+):(\\d+)\\]$`);

/** `compileError(text)` compiles a classic script and returns its error message, if any. */
export function replayScript(code: string, compileError: (text: string) => string | undefined): Replay | undefined {
  let body = code;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const text = PREFIX + body + SUFFIX;
    const error = compileError(text);
    if (error === undefined) return { text, firstLineShift: PREFIX.length };
    const m = EXPORT_AT.exec(error);
    if (!m) return undefined;
    const at = offsetOf(text, Number(m[1]), Number(m[2])) - PREFIX.length;
    const next = at < 0 ? undefined : blankExport(body, at);
    if (next === undefined) return undefined;
    body = next;
  }
  return undefined;
}

/** The offset of 1-based `line`, `column` (V8's line terminators: \n, \r\n, \r, U+2028, U+2029). */
function offsetOf(text: string, line: number, column: number): number {
  let at = 0;
  for (let l = 1; l < line; l++) {
    while (at < text.length && !isLineEnd(text.charCodeAt(at))) at++;
    if (at >= text.length) return -1;
    at += text.charCodeAt(at) === 0x0d && text.charCodeAt(at + 1) === 0x0a ? 2 : 1;
  }
  return at + column - 1;
}

function isLineEnd(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;
}

function isIdentifierChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36 || c === 95 || c > 127;
}

/** `body` with the `export` at `at` made into plain code of the same length, or undefined. */
function blankExport(body: string, at: number): string | undefined {
  if (!body.startsWith('export', at)) return undefined;
  let next = at + 6;
  while (next < body.length && (body[next] === ' ' || body[next] === '\t' || isLineEnd(body.charCodeAt(next)))) next++;
  const spaces = (from: number, to: number) => body.slice(from, to).replace(/[^\n\r\u2028\u2029]/g, ' ');
  if (body.startsWith('default', next) && !isIdentifierChar(body.charCodeAt(next + 7))) {
    return body.slice(0, at) + spaces(at, at + 6) + body.slice(at + 6, next) + '0,     ' + body.slice(next + 7);
  }
  if (body[next] === '{') {
    const close = body.indexOf('}', next);
    if (close < 0) return undefined;
    return body.slice(0, at) + spaces(at, close + 1) + body.slice(close + 1);
  }
  if (body[next] === '*') return undefined;
  return body.slice(0, at) + spaces(at, at + 6) + body.slice(at + 6);
}

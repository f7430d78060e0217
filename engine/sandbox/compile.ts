import { stripTypeScriptTypes } from 'node:module';
import ivm from 'isolated-vm';
import { ValidationError } from '../shared/errors.ts';
import { SCRIPT_FILENAME } from './protocol.ts';
import { positionOf, scanScript, type ScanToken } from './script-scan.ts';

/** The schema's cap (WorkflowSpecSchema.script), checked here too for callers that skip it. */
export const MAX_SCRIPT_CHARS = 512 * 1024;
/**
 * Deepest bracket nesting accepted. Node's type stripper (a WASM build of swc) overruns its
 * own stack at ~1,000 levels and stays broken for the life of the thread; real scripts stay
 * far below 50. Nesting without brackets can still overrun it, which is why uploads compile
 * in a disposable worker (script-compiler.ts); this check answers the common case with a
 * position instead.
 */
export const MAX_SCRIPT_NESTING = 200;

/**
 * Turns an uploaded script (TypeScript or JavaScript) into the code the sandbox runs, or
 * throws a ValidationError naming the line and column in the ORIGINAL source.
 *
 * Types are stripped, not transformed: they become whitespace, so every line and column of
 * the output matches the source and runtime stack positions need no source map. The syntax
 * check uses V8 itself (through a small isolate that never evaluates anything),
 * so what passes here parses identically in the sandbox.
 */
export function compileScript(source: string): string {
  checkShape(source);
  const code = strip(source);
  const isolate = compilerIsolate();
  try {
    return check(isolate, code, source);
  } finally {
    if (!isolate.isDisposed) isolate.dispose();
  }
}

function check(isolate: ivm.Isolate, code: string, source: string): string {
  const module = compileModule(isolate, code, source);
  try {
    const imports = module.dependencySpecifiers;
    if (imports.length > 0) {
      const at = findImport(code, imports[0]);
      fail(`imports are not available in the sandbox ('${imports[0]}'); use the ctx capabilities instead`, at.line, at.column);
    }
    if (!hasDefaultExport(isolate, module)) {
      fail('the script has no default export; add `export default async function (ctx) { … }`', 1, 1);
    }
  } finally {
    module.release();
  }
  return code;
}

function fail(message: string, line: number, column: number): never {
  throw new ValidationError(`script: line ${line}, column ${column}: ${message}`, [{ path: 'script', message, line, column }]);
}

/** Size and nesting, checked on the raw text before anything parses it. */
function checkShape(source: string): void {
  if (source.length > MAX_SCRIPT_CHARS) fail(`the script is longer than ${MAX_SCRIPT_CHARS} characters (${source.length})`, 1, 1);
  let tooDeep = -1;
  scanScript(source, (token, depth) => {
    if (token.kind !== 'open' || depth < MAX_SCRIPT_NESTING) return false;
    tooDeep = token.at;
    return true;
  });
  if (tooDeep >= 0) {
    const at = positionOf(source, tooDeep);
    fail(`brackets are nested deeper than ${MAX_SCRIPT_NESTING} levels; flatten the code`, at.line, at.column);
  }
}

let warningSilenced = false;

function strip(source: string): string {
  // Node warns once per process that stripTypeScriptTypes is experimental; that goes to the
  // service's stderr on the first upload, so the first call filters that one warning out.
  const original = process.emitWarning;
  if (!warningSilenced) {
    process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
      const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
      if (type === 'ExperimentalWarning' && String(warning).includes('stripTypeScriptTypes')) return;
      return (original as (...a: unknown[]) => void).call(this, warning, ...rest);
    } as typeof process.emitWarning;
  }
  try {
    return stripTypeScriptTypes(source, { mode: 'strip' });
  } catch (err) {
    const e = err as { code?: string; message?: string; stack?: string };
    if (e.code === 'ERR_INVALID_TYPESCRIPT_SYNTAX' || e.code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX') {
      const at = stripErrorPosition(e.stack ?? '', source);
      fail(String(e.message), at.line, at.column);
    }
    throw err;
  } finally {
    if (!warningSilenced) {
      process.emitWarning = original;
      warningSilenced = true;
    }
  }
}

/**
 * Node drops amaro's structured position but prefixes the stack with `<file>:<line>` and a
 * code snippet whose caret line marks the column (tabs shown as 4 spaces). The stack quotes
 * the user's text, so it is read with plain string operations, not regexes.
 */
function stripErrorPosition(stack: string, source: string): { line: number; column: number } {
  const lines = stack.split('\n');
  const sourceLines = splitLines(source);
  const head = trailingNumber(lines[0] ?? '');
  const line = head === undefined ? 1 : Math.min(Math.max(head, 1), sourceLines.length);
  const original = sourceLines[line - 1] ?? '';
  // The snippet ends at the first line whose first word contains "Error" (`SyntaxError: …`).
  const end = lines.findIndex((l) => firstWord(l).includes('Error'));
  const snippet = lines.slice(1, end < 0 ? undefined : end);
  const caretAt = snippet.findIndex(isCaretLine);
  if (caretAt > 0) {
    const caret = snippet[caretAt].indexOf('^');
    let display = 0;
    for (let i = 0; i < original.length; i++) {
      if (display >= caret) return { line, column: i + 1 };
      display += original[i] === '\t' ? 4 : 1;
    }
    return { line, column: original.length + 1 };
  }
  // A multi-line span ("  > " lines) starts at the line's code; no snippet means end of input.
  if (snippet.some((l) => l.startsWith('  > '))) return { line, column: firstNonSpace(original) + 1 };
  return { line, column: original.length + 1 };
}

/** Lines split at \r\n, \r or \n, in one pass. */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x0a && c !== 0x0d) continue;
    out.push(text.slice(start, i));
    if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a) i++;
    start = i + 1;
  }
  out.push(text.slice(start));
  return out;
}

/** `…:<digits>` at the end of `text`, as a number. */
function trailingNumber(text: string): number | undefined {
  const colon = text.lastIndexOf(':');
  const digits = text.slice(colon + 1);
  if (colon < 0 || !isDigits(digits)) return undefined;
  return Number(digits);
}

function isDigits(text: string): boolean {
  if (text.length === 0 || text.length > 15) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function firstNonSpace(text: string): number {
  let i = 0;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  return i;
}

function firstWord(text: string): string {
  let i = 0;
  while (i < text.length && text[i] !== ' ' && text[i] !== '\t') i++;
  return text.slice(0, i);
}

/** `   ^^^^  `: spaces, one or more carets, optional trailing space. */
function isCaretLine(text: string): boolean {
  const body = text.trimEnd();
  const start = body.indexOf('^');
  if (start < 0 || body.slice(0, start).trim() !== '') return false;
  for (let i = start; i < body.length; i++) if (body[i] !== '^') return false;
  return true;
}

/**
 * A fresh isolate per upload (about 1.5 ms), disposed before returning: no isolate outlives
 * the call, so none is left for Node's process teardown (a live one tripped isolated-vm's
 * "environment != nullptr" assertion at exit) and the module map never grows.
 */
function compilerIsolate(): ivm.Isolate {
  return new ivm.Isolate({ memoryLimit: 128 });
}

function compileModule(isolate: ivm.Isolate, code: string, source: string): ivm.Module {
  try {
    return isolate.compileModuleSync(code, { filename: SCRIPT_FILENAME });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const at = v8ErrorPosition(message);
    if (at) fail(at.message, at.line, at.column);
    if (isolate.isDisposed) fail(`the script is too large to compile (${source.length} characters)`, 1, 1);
    throw err;
  }
}

/** V8's `<message> [script:<line>:<column>]`, read from the end (the message may quote user text). */
function v8ErrorPosition(message: string): { message: string; line: number; column: number } | undefined {
  const marker = ` [${SCRIPT_FILENAME}:`;
  const at = message.lastIndexOf(marker);
  if (at < 0 || !message.endsWith(']')) return undefined;
  const [line, column, ...rest] = message.slice(at + marker.length, -1).split(':');
  if (rest.length || !isDigits(line ?? '') || !isDigits(column ?? '')) return undefined;
  return { message: message.slice(0, at), line: Number(line), column: Number(column) };
}

/**
 * Linking (not evaluating) a module that re-exports `default` fails when the script has no
 * default export; nothing of the script runs.
 */
function hasDefaultExport(isolate: ivm.Isolate, module: ivm.Module): boolean {
  const probe = isolate.compileModuleSync(`export { default } from '${SCRIPT_FILENAME}';`, { filename: 'veer:probe' });
  const context = isolate.createContextSync();
  try {
    probe.instantiateSync(context, () => module);
    return true;
  } catch (err) {
    if (err instanceof Error && err.message.includes("does not provide an export named 'default'")) return false;
    throw err;
  } finally {
    probe.release();
    context.release();
  }
}

/**
 * Where the static `import … 'spec'` (or `export … from 'spec'`) naming `specifier` starts, for
 * the error position: the last `import`/`export` keyword before a string that follows
 * `import` or `from`. `import(…)`, `import.meta` and `x.import` are not statements. A bounded
 * linear scan (script-scan.ts) replaced a regex that backtracked for ~10 s on a 511 KB upload.
 */
function findImport(code: string, specifier: string): { line: number; column: number } {
  let keyword = -1;
  let pending = -1;
  let previous: ScanToken | undefined;
  let found = -1;
  scanScript(code, (token) => {
    if (pending >= 0) {
      const dynamic = (token.kind === 'open' && token.char === '(') || (token.kind === 'punct' && token.char === '.');
      if (!dynamic) keyword = pending;
      pending = -1;
    }
    const member = previous?.kind === 'punct' && previous.char === '.';
    if (token.kind === 'word' && !member && (token.text === 'import' || token.text === 'export')) {
      if (token.text === 'import') pending = token.at;
      else keyword = token.at;
    } else if (token.kind === 'string' && token.value === specifier && previous?.kind === 'word') {
      if ((previous.text === 'from' || previous.text === 'import') && keyword >= 0) found = keyword;
    }
    previous = token;
    return found >= 0;
  });
  return positionOf(code, Math.max(found, 0));
}

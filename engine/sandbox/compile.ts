import { stripTypeScriptTypes } from 'node:module';
import ivm from 'isolated-vm';
import { ValidationError } from '../shared/errors.ts';
import { SCRIPT_FILENAME } from './protocol.ts';

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
 * code snippet whose caret line marks the column (tabs shown as 4 spaces).
 */
function stripErrorPosition(stack: string, source: string): { line: number; column: number } {
  const lines = stack.split('\n');
  const head = /^.*:(\d+)$/.exec(lines[0] ?? '');
  const sourceLines = source.split(/\r\n|\r|\n/);
  const line = head ? Math.min(Math.max(Number(head[1]), 1), sourceLines.length) : 1;
  const original = sourceLines[line - 1] ?? '';
  const end = lines.findIndex((l) => /^\S*Error/.test(l));
  const snippet = lines.slice(1, end < 0 ? undefined : end);
  const caretAt = snippet.findIndex((l) => /^ *\^+\s*$/.test(l));
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
  if (snippet.some((l) => l.startsWith('  > '))) return { line, column: original.search(/\S|$/) + 1 };
  return { line, column: original.length + 1 };
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
    const m = new RegExp(`^(.*) \\[${SCRIPT_FILENAME}:(\\d+):(\\d+)\\]$`, 's').exec(message);
    if (m) fail(m[1], Number(m[2]), Number(m[3]));
    if (isolate.isDisposed) fail(`the script is too large to compile (${source.length} characters)`, 1, 1);
    throw err;
  }
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
    if (err instanceof Error && /does not provide an export named 'default'/.test(err.message)) return false;
    throw err;
  } finally {
    probe.release();
    context.release();
  }
}

/** Where `import … 'spec'` (or `export … from 'spec'`) starts, for the error position. */
function findImport(code: string, specifier: string): { line: number; column: number } {
  const quoted = specifier.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`\\b(?:import|export)\\b[^;]*?(['"])${quoted}\\1`);
  const m = re.exec(code);
  const index = m ? m.index : 0;
  const before = code.slice(0, index).split(/\r\n|\r|\n/);
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

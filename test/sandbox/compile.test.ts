import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileScript, MAX_SCRIPT_CHARS, MAX_SCRIPT_NESTING } from '../../engine/sandbox/compile.ts';
import { ValidationError } from '../../engine/shared/errors.ts';

/** The ValidationError compileScript throws for `source`, checked for shape. */
function compileError(source: string): { message: string; line: number; column: number; issueMessage: string } {
  try {
    compileScript(source);
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
    assert.equal(err.code, 'VALIDATION');
    const issues = (err.details as { issues: Array<{ path: string; message: string; line: number; column: number }> }).issues;
    assert.equal(issues.length, 1);
    assert.equal(issues[0].path, 'script');
    assert.equal(err.message, `script: line ${issues[0].line}, column ${issues[0].column}: ${issues[0].message}`);
    return { message: err.message, line: issues[0].line, column: issues[0].column, issueMessage: issues[0].message };
  }
  assert.fail('expected compileScript to throw');
}

describe('compileScript', () => {
  it('strips TypeScript types keeping every line and column', () => {
    const source = [
      'interface Weights { v1: number; v2: number }',
      'type Ctx = { input: Weights };',
      'const shift = (w: Weights, by: number): Weights => ({ v1: w.v1 - by, v2: w.v2 + by });',
      'export default async function (ctx: Ctx): Promise<Weights> {',
      '  return shift(ctx.input as Weights, 10);',
      '}',
    ].join('\n');
    const code = compileScript(source);
    assert.equal(code.length, source.length);
    const codeLines = code.split('\n');
    assert.equal(codeLines.length, 6);
    assert.equal(codeLines[2].indexOf('=>'), source.split('\n')[2].indexOf('=>'));
    assert.doesNotMatch(code, /Weights|interface|: number/);
  });

  it('accepts plain JavaScript unchanged, and type-only imports (they are erased)', () => {
    const js = 'export default async function (ctx) {\n  return ctx.input;\n}\n';
    assert.equal(compileScript(js), js);
    assert.doesNotThrow(() =>
      compileScript("import type { ScriptContext } from '../engine/sandbox/script-api.ts';\nexport default async (ctx: ScriptContext) => 1;"),
    );
  });

  it('accepts `export { main as default }`', () => {
    assert.doesNotThrow(() => compileScript('async function main() { return 1; }\nexport { main as default };'));
  });

  it('reports JavaScript syntax errors at the right line and column', () => {
    const e = compileError('const a = 1;\n\nconst   b = ;\nexport default async () => a;');
    assert.deepEqual([e.line, e.column], [3, 13]);
  });

  it('reports early errors V8 finds after parsing (redeclaration, strict mode)', () => {
    const dup = compileError('let x = 1;\nlet x = 2;\nexport default async () => x;');
    assert.deepEqual([dup.line, dup.column, dup.issueMessage], [2, 5, "Identifier 'x' has already been declared"]);
    const withStatement = compileError('export default async (ctx) => {\n  with (ctx) { return input; }\n};');
    assert.equal(withStatement.line, 2);
    assert.match(withStatement.issueMessage, /'with' statement/);
  });

  it('reports TypeScript syntax errors against the ORIGINAL source, tabs and non-ASCII included', () => {
    const bad = compileError('interface A { a: number }\nconst s: string = "héllo";\n\tlet x: = 3;\nexport default async () => x;');
    assert.deepEqual([bad.line, bad.column], [3, 9]);
    assert.match(bad.issueMessage, /Unexpected token `=`/);
    const eof = compileError('export default async (ctx: { a: number }) => {\n  return ctx.a;\n');
    assert.equal(eof.line, 2);
  });

  it('rejects TypeScript that needs a transform (enum, namespace) with its position', () => {
    const e = compileError('const a = 1;\nenum Color { Red }\nexport default async () => Color.Red;');
    assert.deepEqual([e.line, e.column], [2, 1]);
    assert.match(e.issueMessage, /enum is not supported/);
  });

  it('rejects imports with the position of the import statement', () => {
    const e = compileError("const x = 1;\n  import { readFileSync } from 'node:fs';\nexport default async () => readFileSync('/etc/passwd');");
    assert.deepEqual([e.line, e.column], [2, 3]);
    assert.match(e.issueMessage, /imports are not available in the sandbox \('node:fs'\)/);
    const reexport = compileError("export * from './other.js';\nexport default async () => 1;");
    assert.match(reexport.issueMessage, /'\.\/other\.js'/);
  });

  it('rejects a script without a default export, without running it', () => {
    const e = compileError('globalThis.ran = true;\nexport const main = async () => 1;');
    assert.match(e.issueMessage, /no default export/);
    assert.equal((globalThis as { ran?: unknown }).ran, undefined);
  });

  it('never executes the script (a top-level infinite loop compiles instantly)', () => {
    assert.doesNotThrow(() => compileScript('while (true) {}\nexport default async () => 1;'));
  });

  it('refuses nesting past the limit before stripping, at the bracket that crosses it', () => {
    const deep = compileError(
      `const a = 1;\nconst b = ${'['.repeat(MAX_SCRIPT_NESTING + 1)}${']'.repeat(MAX_SCRIPT_NESTING + 1)};\nexport default async () => b;`,
    );
    assert.deepEqual([deep.line, deep.column], [2, 11 + MAX_SCRIPT_NESTING]);
    assert.match(deep.issueMessage, new RegExp(`nested deeper than ${MAX_SCRIPT_NESTING} levels`));
    // Template substitutions count; brackets inside strings, comments, regexes and template text do not.
    const viaTemplates = compileError(`export default async () => ${'`${'.repeat(MAX_SCRIPT_NESTING + 1)}1${'}`'.repeat(MAX_SCRIPT_NESTING + 1)};`);
    assert.match(viaTemplates.issueMessage, /nested deeper/);
    const inert = `'${'('.repeat(500)}'; // ${'{'.repeat(500)}\n/* ${'['.repeat(500)} */ const r = /\\(${'['.repeat(3)}]/; const t = \`${'{'.repeat(500)}\`;\nexport default async () => r;`;
    assert.doesNotThrow(() => compileScript(inert));
    assert.doesNotThrow(() => compileScript(`export default async () => ${'['.repeat(MAX_SCRIPT_NESTING)}${']'.repeat(MAX_SCRIPT_NESTING)};`));
  });

  it('refuses scripts over the size limit without stripping them', () => {
    const big = compileError(`export default async () => 1;\n//${'x'.repeat(MAX_SCRIPT_CHARS)}`);
    assert.deepEqual([big.line, big.column], [1, 1]);
    assert.match(big.issueMessage, /longer than/);
  });

  it('locates a static import without being fooled by dynamic import, member names, strings or comments', () => {
    const e = compileError(
      "// import 'node:fs'\nconst s = \"import 'node:fs'\";\nconst o = { import: 1 }; o.import;\nconst later = () => import('node:fs');\n    import fs from 'node:fs';\nexport default async () => fs;",
    );
    assert.deepEqual([e.line, e.column], [5, 5]);
    const sideEffect = compileError("const a = 1;\nimport 'x';\nexport default async () => a;");
    assert.deepEqual([sideEffect.line, sideEffect.column], [2, 1]);
  });

  it('answers a 511 KB upload built to make a backtracking import search take seconds, at once', () => {
    // Before: `\b(?:import|export)\b[^;]*?…` restarted at each of ~73k `export`s and scanned to the `;`.
    const source = `/*${'export '.repeat(72_900)}*/;\nimport "x";\nexport default async () => 1;`;
    const e = compileError(source);
    assert.deepEqual([e.line, e.column], [2, 1]);
    assert.match(e.issueMessage, /imports are not available in the sandbox \('x'\)/);
  });

  it('reads V8 error positions from the end of the message, whatever user text it quotes', () => {
    const e = compileError('const a = 1;\nexport { a as "x [script:9:9]" };\nexport { a as "x [script:9:9]" };\nexport default async () => a;');
    assert.equal(e.line, 3);
    assert.match(e.issueMessage, /^Duplicate export of 'x \[script:9:9\]'$/);
  });
});

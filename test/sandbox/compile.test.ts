import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileScript } from '../../engine/sandbox/compile.ts';
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
});

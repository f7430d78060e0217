import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_SCRIPT_NESTING } from '../../engine/sandbox/compile.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/**
 * Classes 3 (compile side) and 6 of the trust issue, through the public API: no upload can
 * stall compile for everyone or break it for the uploads after it.
 */
describe('uploads that attacked the compile step', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(() => t.stop());

  const normal = 'export default async (ctx: { input: { n: number } }) => ctx.input.n * 2;';
  const expectCompiles = async (name: string) => {
    const res = await t.call('PUT', `/api/v1/workflows/${name}`, { script: normal });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };
  const scriptIssue = (res: { status: number; body: any }) => {
    assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 500));
    assert.equal(res.body.code, 'VALIDATION');
    const issue = res.body.details.issues.find((i: { path: string }) => i.path === 'script');
    assert.ok(issue, JSON.stringify(res.body.details.issues));
    assert.equal(typeof issue.line, 'number');
    assert.equal(typeof issue.column, 'number');
    return issue as { message: string; line: number; column: number };
  };

  it('a 511 KB upload built to make the import search backtrack is answered at once, with the position', async () => {
    // The old `\b(?:import|export)\b[^;]*?(['"])x\1` restarted at each of ~73k `export`s and
    // scanned to the `;` every time: seconds of a blocked event loop for the API and engine.
    const script = `/*${'export '.repeat(72_900)}*/;\nimport "x";\nexport default async () => 1;`;
    assert.ok(script.length > 510_000 && script.length <= 512 * 1024);
    const issue = scriptIssue(await t.call('PUT', '/api/v1/workflows/backtrack', { script }));
    assert.deepEqual([issue.line, issue.column], [2, 1]);
    assert.match(issue.message, /imports are not available/);
    await expectCompiles('after-backtrack');
  });

  it('deeply nested brackets are a 400 at the bracket past the limit, checked before stripping', async () => {
    for (const [name, script, column] of [
      ['parens', `${'('.repeat(2000)}${')'.repeat(2000)}`, MAX_SCRIPT_NESTING + 1],
      ['arrays', `const x = ${'['.repeat(2000)}${']'.repeat(2000)};\nexport default async () => x;`, 11 + MAX_SCRIPT_NESTING],
      ['objects', `export default async () => (${'{a:'.repeat(2000)}1${'}'.repeat(2000)});`, 26 + MAX_SCRIPT_NESTING * 3],
    ] as const) {
      const issue = scriptIssue(await t.call('PUT', `/api/v1/workflows/deep-${name}`, { script }));
      assert.match(issue.message, new RegExp(`nested deeper than ${MAX_SCRIPT_NESTING} levels`), name);
      assert.deepEqual([issue.line, issue.column], [1, column], name);
    }
    await expectCompiles('after-deep');
  });

  it('nesting without brackets that breaks the type stripper is a 400, and later uploads still compile', async () => {
    // Each of these overran the stripper's WASM stack ("memory access out of bounds"); in one
    // process, every upload after it answered 500 until restart.
    const attacks = {
      generics: `type T = ${'A<'.repeat(2000)}B${'>'.repeat(2000)};\nexport default async () => 1;`,
      ifs: `${'if (1) '.repeat(3000)};\nexport default async () => 1;`,
      unary: `const x = ${'- '.repeat(10_000)}1;\nexport default async () => x;`,
      labels: `${'a: '.repeat(3000)};\nexport default async () => 1;`,
    };
    for (const [name, script] of Object.entries(attacks)) {
      scriptIssue(await t.call('PUT', `/api/v1/workflows/strip-${name}`, { script }));
      await expectCompiles(`after-strip-${name}`);
    }
    // The API kept its own contract for ordinary mistakes throughout.
    const typo = scriptIssue(await t.call('PUT', '/api/v1/workflows/typo', { script: 'export default async () => {\n  return 1 +;\n}' }));
    assert.deepEqual([typo.line, typo.column], [2, 13]);
  });
});

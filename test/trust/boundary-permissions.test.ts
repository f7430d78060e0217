import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { assertApiAnswers, prototypeSnapshot, putWorkflow, runToEnd } from './boundary-support.ts';

/**
 * Class 2 (permission checks on plain objects): names of Object.prototype members that are
 * valid deployment and gateway names (`constructor`, and lower-cased ones that must not match
 * case-insensitively either) must never be found in a workflow's permissions unless granted.
 */
const SCRIPT = `
export default async function (ctx) {
  const out = {};
  const attempt = async (label, fn) => {
    try { await fn(); out[label] = 'allowed'; } catch (e) { out[label] = e.code; }
  };
  for (const name of ctx.input.names) {
    await attempt('scale ' + name, () => ctx.deployments.scale(name, { instances: 1 }));
    await attempt('setWeights ' + name, () => ctx.gateways.setWeights(name, { v1: 100 }));
    await attempt('update ' + name, () => ctx.gateways.update(name, { port: 18090 }));
  }
  return out;
}`;

const NAMES = ['constructor', 'prototype', 'valueof', 'hasownproperty', 'tostring'];

describe('the host boundary: permission lookups by user-supplied names', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem();
  });
  after(() => t.stop());

  for (const [label, permissions] of [
    ['no grants', { deployments: {}, gateways: [] }],
    [
      'grants for other names and globs',
      { deployments: { 'shop-*': { minInstances: 0, maxInstances: 3 }, billing: { minInstances: 1, maxInstances: 2 } }, gateways: ['shop-*', 'billing'] },
    ],
  ] as const) {
    it(`with ${label}, every Object.prototype member name is refused as a PermissionError`, async () => {
      const before = prototypeSnapshot();
      const name = label === 'no grants' ? 'perm-none' : 'perm-other';
      await putWorkflow(t, name, { script: SCRIPT, permissions });
      const run = await runToEnd(t, name, { names: NAMES });
      assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
      for (const n of NAMES) {
        assert.equal(run.result[`scale ${n}`], 'PERMISSION', `scale ${n}: ${JSON.stringify(run.result)}`);
        assert.equal(run.result[`setWeights ${n}`], 'PERMISSION', `setWeights ${n}: ${JSON.stringify(run.result)}`);
        assert.equal(run.result[`update ${n}`], 'PERMISSION', `update ${n}: ${JSON.stringify(run.result)}`);
      }
      assert.deepEqual(prototypeSnapshot(), before);
      await assertApiAnswers(t);
    });
  }

  it('an uncaught refusal fails the run with the PermissionError, naming the deployment and how to grant it', async () => {
    await putWorkflow(t, 'perm-uncaught', {
      script: "export default async function (ctx) { await ctx.deployments.scale('constructor', { instances: 2 }); return 'scaled'; }",
      permissions: { deployments: {} },
    });
    const run = await runToEnd(t, 'perm-uncaught');
    assert.equal(run.status, 'failed');
    assert.match(run.error.message, /may not scale deployment 'constructor': add it .* to permissions\.deployments/);
    assert.match(run.error.message, /\[PERMISSION\]/);
  });
});

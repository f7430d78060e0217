import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

const WAIT = { timeoutMs: 60_000, intervalMs: 50 };

/**
 * Issue 9, class 7: a result nested too deep for the host's JSON encoder made storing the run
 * throw after the script had finished, so the run stayed `running` forever — and with
 * `overlap: skip` every later trigger of that workflow was skipped. The isolate now refuses
 * such a result itself: the run ends failed RESULT.UNSERIALISABLE and the next trigger runs.
 * Without the fix the second run never starts and the wait times out.
 */
describe('a result the host cannot encode', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem({ env: { VEER_EVENTS_TRIGGER_REFRESH_MS: '100' } });
  });
  after(() => t.stop());

  const { runsOf } = workflowCalls(() => t);

  it('fails the run with RESULT.UNSERIALISABLE, and the workflow still runs on its next trigger (overlap skip)', async () => {
    const put = await t.call('PUT', '/api/v1/workflows/deep', {
      script: `export default async function () { let a = []; for (let i = 0; i < 20000; i++) a = [a]; return a; }`,
      trigger: { events: { tags: ['deep-now'] } },
      overlap: 'skip',
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));

    const manual = await t.call('POST', '/api/v1/workflows/deep/runs?wait=true', {});
    assert.equal(manual.body.status, 'failed', JSON.stringify(manual.body).slice(0, 500));
    assert.equal(manual.body.error.code, 'RESULT.UNSERIALISABLE');
    assert.match(manual.body.error.message, /nested deeper than 100 levels/);

    // Two triggered runs one after the other: the second starts only if the first finished.
    for (const expected of [2, 3]) {
      const runs = await waitFor(
        async () => {
          const all = await runsOf('deep');
          if (all.length >= expected && all.every((r) => r.status === 'failed')) return all;
          if (all.length < expected && all.every((r) => r.status === 'failed')) await t.call('POST', '/api/v1/events', { tags: ['deep-now'] });
          return false;
        },
        { ...WAIT, what: `run ${expected} of the workflow to fail` },
      );
      for (const run of runs) assert.equal(run.error?.code, 'RESULT.UNSERIALISABLE', JSON.stringify(run).slice(0, 500));
    }
  });
});

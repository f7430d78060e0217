import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 25 };
const SECRET = 'hunter2';

/**
 * `ctx.events.query` returned other workflows' run errors, including a password an error
 * message carried. A script now reads only its own workflow's events and the tags granted in
 * `permissions.events`, and run-failure events carry the error code, never the message.
 */
describe('ctx.events.query sees only what the workflow may read', () => {
  let t: TestSystem;
  before(async () => {
    t = await startTestSystem();
  });
  after(() => t.stop());

  const { put, run } = workflowCalls(() => t);

  const FILTERS = [{}, { type: 'run.failed' }, { tags: ['workflows:victim'] }, { tags: ['workflows'] }, { tags: ['diary'] }, { tags: 'runs' }];
  const reader = (permissions: Record<string, unknown>) => ({
    script: `export default async function (ctx) {
      const out = [];
      for (const f of ${JSON.stringify(FILTERS)}) out.push(await ctx.events.query({ ...f, limit: 100 }));
      return out;
    }`,
    permissions,
  });

  before(async () => {
    await put('victim', { script: `export default async function () { throw new Error('cannot connect: password=${SECRET}') }` });
    const failed = await run('victim');
    assert.equal(failed.status, 'failed');
    await put('diary', { script: `export default async function (ctx) { await ctx.events.emit({ tags: ['diary'], value: 'dear diary' }); return 1 }` });
    assert.equal((await run('diary')).status, 'succeeded');
    await waitFor(async () => (await t.call('GET', '/api/v1/events?tag=workflows:victim&type=run.failed')).body.events.length === 1, {
      ...WAIT,
      what: 'the run.failed event of victim',
    });
  });

  it('run-failure events carry the error code, not the message', async () => {
    const [failure] = (await t.call('GET', '/api/v1/events?tag=workflows:victim&type=run.failed')).body.events;
    assert.deepEqual(failure.value.error, { code: 'SCRIPT.ERROR' });
    assert.ok(!JSON.stringify(failure).includes(SECRET));
  });

  it('without permissions.events a script reads only its own workflow’s events', async () => {
    await put('snoop', {
      ...reader({}),
      script: `export default async function (ctx) {
        await ctx.events.emit({ tags: ['diary'], value: 'my own note' });
        const out = [];
        for (const f of ${JSON.stringify(FILTERS)}) out.push(await ctx.events.query({ ...f, limit: 100 }));
        return out;
      }`,
    });
    const r = await run('snoop');
    assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
    const seen = (r.result as any[][]).flat();
    assert.ok(!JSON.stringify(r.result).includes(SECRET));
    assert.deepEqual(
      seen.filter((e) => !e.tags.includes('workflows:snoop')),
      [],
      'only its own events',
    );
    const [all, , , , diary] = r.result as any[][];
    assert.ok(
      all.some((e) => e.value === 'my own note'),
      'its own emit is visible',
    );
    assert.deepEqual(
      diary.map((e) => e.value),
      ['my own note'],
      "another workflow's `diary` event is not",
    );
  });

  it('permissions.events grants tags and globs: the grantee reads those, and still nothing else', async () => {
    await put('auditor', reader({ events: ['workflows:victim'] }));
    const audit = await run('auditor');
    assert.equal(audit.status, 'succeeded', JSON.stringify(audit.error));
    const [, failures, victims] = audit.result as any[][];
    assert.deepEqual(
      failures.map((e) => e.value.workflow),
      ['victim'],
    );
    assert.deepEqual(failures[0].value.error, { code: 'SCRIPT.ERROR' });
    assert.ok(victims.length >= 2, 'run.started and run.failed of victim');
    assert.ok(!JSON.stringify(audit.result).includes('dear diary'));

    await put('reader', reader({ events: ['dia*'] }));
    const read = await run('reader');
    assert.equal(read.status, 'succeeded', JSON.stringify(read.error));
    const [all, failed, , , diary] = read.result as any[][];
    assert.deepEqual(
      diary.map((e) => e.value),
      ['my own note', 'dear diary'],
    );
    assert.deepEqual(failed, [], 'no run failures: not granted');
    assert.ok(all.every((e: any) => e.tags.includes('workflows:reader') || e.tags.includes('diary')));
  });
});

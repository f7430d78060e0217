import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRedisBackend, type RedisBackend } from '../../adapters/redis/index.ts';
import { LATENESS_BUCKETS, TRIGGER_HISTORY_MAX, type TriggerRecord } from '../../engine/domain/trigger-record.ts';
import { WorkflowSpecSchema } from '../../engine/domain/workflow.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';

/** The Redis trigger history: what GET …/triggers and /metrics read, shared by every process. */
describe('TriggerHistory: redis', () => {
  let redis: TestRedis;
  let backend: RedisBackend;
  const spec = WorkflowSpecSchema.parse({ script: 'export default async () => 1;' });
  let n = 0;
  /** A fresh workflow per test. */
  async function workflow(): Promise<string> {
    const name = `wf-${++n}`;
    await backend.workflows.put(name, spec, spec.script);
    return name;
  }
  const fired = (i: number): TriggerRecord => ({
    at: new Date(i * 1000).toISOString(),
    trigger: 'cron',
    outcome: 'fired',
    runId: `run-${i}`,
    tick: new Date(i * 1000).toISOString(),
  });

  before(async () => {
    redis = await startRedis();
    backend = createRedisBackend({ target: redis.target, prefix: `t${randomUUID().slice(0, 8)}`, runHistory: 10, runLogMax: 10, logger: silentLogger() });
  });
  after(async () => {
    await backend?.close();
    await redis?.stop();
  });

  it('lists records newest first, as recorded, 100 by default', async () => {
    const wf = await workflow();
    const queued: TriggerRecord = { at: new Date(5000).toISOString(), trigger: 'event', outcome: 'queued', runId: 'run-q', eventId: '1-0' };
    const skipped: TriggerRecord = {
      at: new Date(6000).toISOString(),
      trigger: 'signal',
      outcome: 'skipped',
      reason: 'overlap',
      runId: 'run-q',
      signalId: '000000000001-ab',
    };
    await backend.triggerHistory.record(wf, fired(1));
    await backend.triggerHistory.record(wf, queued);
    await backend.triggerHistory.record(wf, skipped);
    assert.deepEqual(await backend.triggerHistory.recent(wf), [skipped, queued, fired(1)]);
    assert.deepEqual(await backend.triggerHistory.recent(wf, { limit: 2 }), [skipped, queued]);
    for (let i = 10; i < 120; i++) await backend.triggerHistory.record(wf, fired(i));
    const recent = await backend.triggerHistory.recent(wf);
    assert.equal(recent.length, 100);
    assert.deepEqual(recent[0], fired(119));
  });

  it(`keeps the newest ${TRIGGER_HISTORY_MAX} records of a workflow`, async () => {
    const wf = await workflow();
    const other = await workflow();
    await backend.triggerHistory.record(other, fired(0));
    for (let i = 0; i < TRIGGER_HISTORY_MAX + 20; i++) await backend.triggerHistory.record(wf, fired(i));
    const all = await backend.triggerHistory.recent(wf, { limit: TRIGGER_HISTORY_MAX * 2 });
    assert.equal(all.length, TRIGGER_HISTORY_MAX);
    assert.deepEqual(all[0], fired(TRIGGER_HISTORY_MAX + 19));
    assert.deepEqual(all.at(-1), fired(20));
    assert.deepEqual(await backend.triggerHistory.recent(other), [fired(0)], 'histories are per workflow');
  });

  it('counts skips by workflow and reason, a record of several ticks by its count', async () => {
    const a = await workflow();
    const b = await workflow();
    const skip = (reason: TriggerRecord['reason'], count?: number): TriggerRecord => ({
      at: new Date().toISOString(),
      trigger: 'cron',
      outcome: 'skipped',
      reason,
      ...(count ? { count } : {}),
    });
    await backend.triggerHistory.record(a, skip('overlap'));
    await backend.triggerHistory.record(a, skip('overlap'));
    await backend.triggerHistory.record(a, skip('missed', 7));
    await backend.triggerHistory.record(b, skip('paused'));
    await backend.triggerHistory.record(b, fired(1));
    const counts = (await backend.triggerHistory.skippedCounts()).filter((c) => c.workflow === a || c.workflow === b);
    assert.deepEqual(counts, [
      { workflow: a, reason: 'missed', count: 7 },
      { workflow: a, reason: 'overlap', count: 2 },
      { workflow: b, reason: 'paused', count: 1 },
    ]);
  });

  it("deletes a workflow's history with it, keeps its counters, and keeps no history for a workflow that is gone", async () => {
    const wf = await workflow();
    await backend.triggerHistory.record(wf, { at: new Date().toISOString(), trigger: 'event', outcome: 'skipped', reason: 'queue_full' });
    assert.equal(await backend.workflows.delete(wf), true);
    assert.deepEqual(await backend.triggerHistory.recent(wf), []);
    // A trigger that raced the delete: counted (it happened), but not kept for a later workflow of that name.
    await backend.triggerHistory.record(wf, { at: new Date().toISOString(), trigger: 'event', outcome: 'skipped', reason: 'queue_full' });
    await backend.workflows.put(wf, spec, spec.script);
    assert.deepEqual(await backend.triggerHistory.recent(wf), []);
    const counts = (await backend.triggerHistory.skippedCounts()).filter((c) => c.workflow === wf);
    assert.deepEqual(counts, [{ workflow: wf, reason: 'queue_full', count: 2 }]);
  });

  it('keeps a cumulative cron lateness histogram in seconds', async () => {
    assert.deepEqual(await backend.triggerHistory.cronLateness(), { buckets: LATENESS_BUCKETS.map(() => 0), count: 0, sum: 0 });
    for (const ms of [3, 40, 40, 700, 120_000, 1_000_000, -2]) await backend.triggerHistory.recordCronLateness(ms);
    const h = await backend.triggerHistory.cronLateness();
    assert.equal(h.count, 7);
    assert.ok(Math.abs(h.sum - (0.003 + 0.04 + 0.04 + 0.7 + 120 + 1000)) < 1e-6, `sum ${h.sum}`);
    // Bounds: 0.01 0.05 0.1 0.25 0.5 1 2.5 5 10 30 60 300; a tick early by a clock step counts as on time.
    const expected = LATENESS_BUCKETS.map((b) => [0, 3, 40, 40, 700, 120_000, 1_000_000].filter((ms) => ms / 1000 <= b).length);
    assert.deepEqual(h.buckets, expected);
    assert.deepEqual(h.buckets.slice(0, 3), [2, 4, 4]);
    assert.equal(h.buckets.at(-1), 6, 'past the last bound: counted, in no bucket');
  });
});

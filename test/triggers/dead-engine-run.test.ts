import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEngineProcess } from '../helpers/engine-process.ts';
import type { ServiceProcess } from '../helpers/process.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { workflowCalls } from '../helpers/workflow-calls.ts';

/**
 * Fault injection: with `overlap: skip`, a per-second cron whose engine is killed mid-run must
 * not stay silenced until stalled-job recovery (VEER_JOB_LOCK_MS, 30 s here). Once the dead
 * engine's heartbeat expires, the next tick ends the orphaned run as RUN.ENGINE_LOST and starts
 * its own run on the surviving engine.
 */
describe('a run whose engine died does not block its workflow', () => {
  let t: TestSystem;
  const procs: ServiceProcess[] = [];
  const wf = workflowCalls(() => t);
  // Short heartbeats (TTL 5 × 200 ms) so the orphan is told apart quickly; the job lock keeps its 30 s default.
  const env = () => ({ ...t.env, VEER_ENGINE_HEARTBEAT_MS: '200', VEER_JOB_LOCK_MS: '30000', VEER_SHUTDOWN_GRACE_MS: '1000' });
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL').catch(() => undefined)));
    await t.stop();
  });

  it('the next tick ends the orphan as RUN.ENGINE_LOST and runs on the surviving engine', async () => {
    const doomed = startEngineProcess(env());
    procs.push(doomed);
    await wf.put('every-second', {
      // The first run hangs on its engine; later runs end at once.
      script:
        "export default async function (ctx) { const n = (await ctx.state.get('n')) ?? 0; await ctx.state.set('n', n + 1); if (n === 0) await ctx.sleep(50000); return n }",
      trigger: { cron: '* * * * * *' },
      overlap: 'skip',
      limits: { timeoutMs: 60_000, memoryMb: 32 },
    });
    const orphan = await waitFor(async () => (await wf.runsOf('every-second')).find((r) => r.status === 'running' && r.engineId), {
      timeoutMs: 60_000,
      intervalMs: 50,
      what: 'the first run running on the doomed engine',
    });
    const survivor = startEngineProcess(env());
    procs.push(survivor);
    await waitFor(async () => (await t.system.stores.coordination.engines.list()).length === 2, { timeoutMs: 60_000, what: 'two engines' });
    await doomed.stop('SIGKILL');

    const next = await waitFor(async () => (await wf.runsOf('every-second')).find((r) => r.id !== orphan.id && r.status === 'succeeded'), {
      timeoutMs: 25_000,
      intervalMs: 50,
      what: 'a later tick to run on the surviving engine before the job lock (30 s) would free it',
    });
    assert.equal(next.result, 1);
    const ended = (await t.call('GET', `/api/v1/runs/${orphan.id}`)).body;
    assert.equal(ended.status, 'failed');
    assert.equal(ended.error.code, 'RUN.ENGINE_LOST');
    assert.match(ended.error.message, new RegExp(`engine ${orphan.engineId} stopped`));
    // The tick that superseded the orphan is in the trigger history with the run it started.
    const entries = (await t.call('GET', '/api/v1/workflows/every-second/triggers?limit=500')).body.entries as any[];
    assert.ok(entries.some((e) => e.outcome === 'fired' && e.runId === next.id));
  });
});

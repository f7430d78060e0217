import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SHUTDOWN_CLOSE_MS } from '../../boot/shutdown.ts';
import { startEngineProcess } from '../helpers/engine-process.ts';
import type { ServiceProcess } from '../helpers/process.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * Fault: an engine with a run in progress gets SIGTERM while Redis is unreachable.
 * Expectation: it exits within VEER_SHUTDOWN_GRACE_MS + SHUTDOWN_CLOSE_MS whatever Redis
 * does (each shutdown step bounded, then the whole), leaving the run to be resumed. Before the fix it stayed alive for minutes, waiting on
 * BullMQ's forced close.
 */
const GRACE_MS = 1_000;

describe('fault: engine SIGTERM during a Redis outage', () => {
  let t: TestSystem;
  let engine: ServiceProcess | undefined;
  before(async () => {
    t = await startTestSystem({ engine: false });
  });
  after(async () => {
    await engine?.stop('SIGKILL');
    await t.stop();
  });

  it('exits within the shutdown bound', async (ctx) => {
    await t.call('PUT', '/api/v1/workflows/long', { script: 'export default async function (ctx) { await ctx.sleep(120000); return "done" }' });
    engine = startEngineProcess({ ...t.env, VEER_SHUTDOWN_GRACE_MS: String(GRACE_MS) });
    const run = await t.call('POST', '/api/v1/workflows/long/runs', {});
    await waitFor(async () => (await t.system.stores.runs.get(run.body.id))?.status === 'running', { timeoutMs: 30_000, what: 'the run to start' });

    await t.redis.stop();
    const signalled = performance.now();
    engine.child.kill('SIGTERM');
    const bound = GRACE_MS + SHUTDOWN_CLOSE_MS;
    // The deadline leaves room for a loaded machine; the figure is what matters.
    await waitFor(() => engine!.child.exitCode !== null || engine!.child.signalCode !== null, {
      timeoutMs: bound + 15_000,
      what: `the engine to exit (bound ${bound} ms)`,
    });
    const took = performance.now() - signalled;
    ctx.diagnostic(`engine exited ${took.toFixed(0)} ms after SIGTERM with Redis down (bound ${bound} ms), exit code ${engine.child.exitCode}`);
    assert.equal(engine.child.signalCode, null, 'the engine exits by itself, not by a kill');
    // The bound, plus scheduling room on a loaded machine.
    assert.ok(took <= bound + 5_000, `exited ${took.toFixed(0)} ms after SIGTERM; bound ${bound} ms`);
  });
});

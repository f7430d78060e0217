import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runsInstance } from '../../adapters/scheduler/local/process-identity.ts';
import { startEngineProcess } from '../helpers/engine-process.ts';
import type { ServiceProcess } from '../helpers/process.ts';
import { startTestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import {
  LOCAL_ENV,
  WAIT,
  cleanUpStage,
  defineReady,
  finishLoad,
  newStage,
  observed,
  parentOf,
  supervisorsPresent,
  twoEnginesServingShop,
} from './local-deployment-support.ts';

/**
 * Fault: the engine whose supervisor runs the local deployments is stopped cleanly (SIGTERM),
 * as in a rolling restart of engines; a second engine on the same Redis stands by.
 * Load: continuous requests through the real gateway agent and HAProxy to the deployment's
 * two instances.
 * Expectation: the leaving supervisor frees the lease at once and hands the instances over;
 * the standby adopts them: same pids, not one failed request, and the engine exits cleanly
 * (code 0) within its shutdown bound. Before, it stopped its instances on the way out and the
 * standby started new ones: a burst of 503s.
 * Counterpart: an engine stopped with no other supervisor alive (one `npm start`, Ctrl-C)
 * still stops its instances; none is left running once it has exited.
 */

/** Sends SIGTERM (not `ServiceProcess.stop`, which SIGKILLs after 5 s) and resolves with the exit code. */
async function terminate(e: ServiceProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => e.child.once('exit', (code) => resolve(code)));
  e.child.kill('SIGTERM');
  return exited;
}

test('SIGTERM of the engine running local deployments: the standby adopts the instances and no request fails', async (ctx) => {
  const stage = newStage();
  try {
    const { t, prefix, before, record, leader, load } = await twoEnginesServingShop(stage, 'supervisors', '100 requests before the SIGTERM');

    const failedBefore = load.snapshot().failures;
    const termAt = Date.now();
    const exit = terminate(leader).then((code) => ({ code, ms: Date.now() - termAt }));
    const rec = await waitFor(
      async () => {
        const r = await observed(t.redisClient, prefix, 'shop');
        return r && r.supervisor !== record.supervisor && r.instances.every((i) => i.ready) && r;
      },
      { ...WAIT, what: 'the standby supervisor to publish the deployment' },
    );
    const takeoverMs = Date.now() - termAt;
    const exited = await exit;
    const failedAtTakeover = load.snapshot().failures;
    const { total, after } = await finishLoad(stage, t, load, '400 requests after the old engine exited');
    ctx.diagnostic(
      `takeover ${takeoverMs} ms after SIGTERM, old engine exited (code ${exited.code}) after ${exited.ms} ms; ${total.requests} requests, ${total.failures} failed (${failedBefore} before the SIGTERM, ${failedAtTakeover - failedBefore} until the takeover); pids before ${before.answered} after ${after.answered}`,
    );
    assert.equal(exited.code, 0, `the old engine shut down cleanly: ${leader.output().slice(-2000)}`);
    assert.deepEqual(rec.instances.map((i) => i.id).sort(), record.instances.map((i) => i.id).sort(), 'the successor lists the same instances');
    assert.deepEqual(after.answered, before.answered, 'the same instance processes serve after the hand-over');
    assert.ok(
      after.answered.every((pid) => parentOf(pid) !== leader.child.pid),
      'the old engine is gone, its instances live on',
    );
    assert.equal(total.failures, 0, `failed requests: ${JSON.stringify(total.errors)}`);
  } finally {
    await cleanUpStage(stage);
  }
});

test('SIGTERM of the only engine running local deployments: its instances are stopped before it exits', async (ctx) => {
  const stage = newStage();
  try {
    const t = await startTestSystem({ engine: false, env: LOCAL_ENV });
    stage.t = t;
    const prefix = t.env.VEER_REDIS_PREFIX!;
    const e = startEngineProcess({ ...t.env });
    stage.engines.push(e);
    await waitFor(
      async () => {
        e.assertRunning();
        return (await supervisorsPresent(t.redisClient, prefix)).length === 1;
      },
      { ...WAIT, what: 'the local supervisor present' },
    );
    await defineReady(t, 'shop', 2);
    const record = (await observed(t.redisClient, prefix, 'shop'))!;
    const started = record.instances.map((i) => ({ pid: i.pid!, id: i.id }));
    stage.started = started;
    assert.equal(started.length, 2);
    assert.ok(started.every((i) => runsInstance(i.pid, i.id)));

    const termAt = Date.now();
    const code = await terminate(e);
    const exitMs = Date.now() - termAt;
    const alive = started.filter((i) => runsInstance(i.pid, i.id));
    ctx.diagnostic(`engine exited (code ${code}) ${exitMs} ms after SIGTERM; instances still running afterwards: ${alive.length} of ${started.length}`);
    assert.equal(code, 0, `the engine shut down cleanly: ${e.output().slice(-2000)}`);
    assert.deepEqual(alive, [], 'no instance process outlives the engine');
    assert.equal(await observed(t.redisClient, prefix, 'shop'), undefined, 'no observed record left naming dead processes');
  } finally {
    await cleanUpStage(stage);
  }
});

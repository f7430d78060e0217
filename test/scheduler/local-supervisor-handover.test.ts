import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createLocalDriver } from '../../adapters/scheduler/local/driver.ts';
import { processStartOf } from '../../adapters/scheduler/local/process-identity.ts';
import type { ObservedRecord } from '../../adapters/scheduler/local/state.ts';
import { createLocalSupervisor, type LocalSupervisor } from '../../adapters/scheduler/local/supervisor.ts';
import type { SchedulerDriver } from '../../engine/ports/scheduler.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const fixture = fileURLToPath(new URL('./fixtures/http-instance.mjs', import.meta.url));
const timings = { healthIntervalMs: 50, drainMs: 100, stopGraceMs: 3000, restartBackoffMs: 50, reconcileIntervalMs: 200, leaseMs: 600 };

/**
 * Leadership of local deployments changing hands between two supervisors on one Redis: the
 * leader steps down only when another holds the lease, and hands its running instances to
 * the successor, which adopts them (same processes), instead of stopping them.
 */
describe('local supervisor hand-over', () => {
  let server: TestRedis;
  let redis: Redis;
  let a: LocalSupervisor;
  let b: LocalSupervisor;
  let driver: SchedulerDriver;
  const prefix = `t${randomUUID().slice(0, 8)}:scheduler`;
  const observed = async () => JSON.parse((await redis.get(`${prefix}:observed:web`))!) as ObservedRecord;

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    a = createLocalSupervisor({ redis, prefix, logger: silentLogger(), timings });
    await a.start();
    b = createLocalSupervisor({ redis, prefix, logger: silentLogger(), timings });
    await b.start();
    driver = createLocalDriver({ redis, prefix, pollIntervalMs: 20 });
  });
  after(async () => {
    await b?.close();
    await a?.close();
    redis?.disconnect();
    await server?.stop();
  });

  it('a lease taken by another ends leadership; the successor adopts the same processes', async () => {
    assert.equal(a.active, true);
    assert.equal(b.active, false);
    await driver.define!('web', { command: process.execPath, args: [fixture], instances: 2, healthCheck: '/health' });
    await driver.waitReady('web', { timeoutMs: 20_000 });
    const before = await observed();
    const starts = before.instances.map((i) => processStartOf(i.pid!));

    // Someone else holds the lease (as when a standby won it while the leader was cut off).
    await redis.set(`${prefix}:supervisor`, 'intruder', 'PX', 60_000);
    await waitFor(() => !a.active, { what: 'the leader to step down' });
    await redis.del(`${prefix}:supervisor`);
    const rec = await waitFor(
      async () => {
        const r = await observed();
        return b.active && r.supervisor !== before.supervisor && r.instances.every((i) => i.ready) && r;
      },
      { timeoutMs: 10_000, what: 'the standby to take over' },
    );
    assert.deepEqual(
      rec.instances.map((i) => [i.id, i.pid]).sort(),
      before.instances.map((i) => [i.id, i.pid]).sort(),
      'the successor runs the same instances',
    );
    assert.deepEqual(
      before.instances.map((i) => processStartOf(i.pid!)),
      starts,
      'the processes never stopped',
    );
    assert.equal((await driver.get('web')).status, 'ready');
  });
});

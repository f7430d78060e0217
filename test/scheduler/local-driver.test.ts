import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createLocalDriver } from '../../adapters/scheduler/local/driver.ts';
import { createLocalSupervisor, type LocalSupervisor } from '../../adapters/scheduler/local/supervisor.ts';
import { resolveEndpoints } from '../../adapters/scheduler/endpoints.ts';
import type { SchedulerDriver } from '../../engine/ports/scheduler.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const fixture = fileURLToPath(new URL('./fixtures/http-instance.mjs', import.meta.url));
const READY = { timeoutMs: 20_000 };

/** One HTTP GET with a fresh connection; resolves with status and body, rejects on network errors. */
function get(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local scheduler: real processes supervised through Redis', () => {
  let server: TestRedis;
  let redis: Redis;
  let supervisor: LocalSupervisor;
  let driver: SchedulerDriver;
  const prefix = `t${randomUUID().slice(0, 8)}:scheduler`;
  const define = (name: string, instances: number, extra: { env?: Record<string, string>; args?: string[] } = {}) =>
    driver.define!(name, { command: process.execPath, args: extra.args ?? [fixture], env: extra.env, instances, healthCheck: '/health' });

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    supervisor = createLocalSupervisor({
      redis,
      prefix,
      logger: silentLogger(),
      timings: { healthIntervalMs: 50, drainMs: 200, stopGraceMs: 3000, restartBackoffMs: 50, restartBackoffMaxMs: 200, reconcileIntervalMs: 200 },
    });
    await supervisor.start();
    driver = createLocalDriver({ redis, prefix, pollIntervalMs: 20 });
  });
  after(async () => {
    await supervisor.close();
    redis.disconnect();
    await server.stop();
  });

  it('runs each instance as a process serving on its own loopback PORT with the defined env', async () => {
    await define('greeter', 2, { env: { GREETING: 'hello' } });
    const d = await driver.waitReady('greeter', READY);
    assert.equal(d.endpoints.length, 2);
    const answers = await Promise.all(
      d.endpoints.map(async (e) => {
        assert.equal(e.host, '127.0.0.1');
        assert.equal(e.name, 'http');
        return JSON.parse((await get(e.port)).body);
      }),
    );
    assert.deepEqual(
      answers.map((a) => a.greeting),
      ['hello', 'hello'],
    );
    assert.notEqual(answers[0].pid, answers[1].pid);
    assert.notEqual(answers[0].instance, answers[1].instance);
  });

  it('restarts a killed instance and routes to the new process once it is healthy', async () => {
    await define('phoenix', 1);
    const before = await driver.waitReady('phoenix', READY);
    const { pid } = JSON.parse((await get(before.endpoints[0].port)).body);
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => (await driver.get('phoenix')).readyInstances === 0, { what: 'killed instance marked not ready' });
    const after = await driver.waitReady('phoenix', READY);
    const now = JSON.parse((await get(after.endpoints[0].port)).body);
    assert.notEqual(now.pid, pid);
  });

  it('lists only healthy instances as ready endpoints', async () => {
    await define('picky', 2);
    const d = await driver.waitReady('picky', READY);
    const [sick, well] = d.endpoints;
    await get(sick.port, '/set-health?ok=0');
    const eps = await waitFor(
      async () => {
        const r = await resolveEndpoints(driver, 'picky');
        return r.length === 1 ? r : undefined;
      },
      { what: 'unhealthy instance dropped from endpoints' },
    );
    assert.deepEqual(eps, [{ host: '127.0.0.1', port: well.port }]);
    assert.notEqual((await driver.get('picky')).status, 'ready');
    await get(sick.port, '/set-health?ok=1');
    await driver.waitReady('picky', READY);
    assert.equal((await resolveEndpoints(driver, 'picky')).length, 2);
  });

  it('scale-down drains: in-flight requests complete and a client following the endpoints sees no failure', async () => {
    await define('drainer', 3);
    const d = await driver.waitReady('drainer', READY);
    const inflight = d.endpoints.map((e) => get(e.port, '/slow?ms=400'));
    let stop = false;
    const failures: string[] = [];
    let served = 0;
    const client = (async () => {
      while (!stop) {
        const eps = await resolveEndpoints(driver, 'drainer');
        const e = eps[served % eps.length];
        try {
          const r = await get(e.port);
          if (r.status !== 200) failures.push(`status ${r.status}`);
          else served++;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    })();
    await driver.scale('drainer', { instances: 1 });
    const after = await driver.waitReady('drainer', READY);
    stop = true;
    await client;
    const results = await Promise.all(inflight);
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200],
      'in-flight requests on drained instances finished',
    );
    assert.deepEqual(failures, []);
    assert.ok(served > 0);
    assert.equal(after.endpoints.length, 1, 'drained instances are gone from the endpoints');
    const gone = d.endpoints.filter((e) => e.port !== after.endpoints[0].port);
    for (const e of gone) await assert.rejects(get(e.port), /ECONNREFUSED/, 'drained processes have stopped');
  });

  it('replaces instances one by one when the definition changes, keeping the deployment served', async () => {
    await define('rolling', 2, { env: { GREETING: 'v1' } });
    await driver.waitReady('rolling', READY);
    await define('rolling', 2, { env: { GREETING: 'v2' } });
    const seen = new Set<number>();
    const d = await waitFor(
      async () => {
        const x = await driver.get('rolling');
        seen.add(x.endpoints.filter((e) => e.ready).length);
        return x.status === 'ready' ? x : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 5, what: 'rollout to v2' },
    );
    assert.ok(![...seen].includes(0), `never without a ready instance (ready counts seen: ${[...seen]})`);
    const greetings = await Promise.all(d.endpoints.map(async (e) => JSON.parse((await get(e.port)).body).greeting));
    assert.deepEqual(greetings, ['v2', 'v2']);
  });

  it('remove drains every instance and forgets the deployment', async () => {
    await define('temp', 1);
    const d = await driver.waitReady('temp', READY);
    assert.equal(await driver.remove!('temp'), true);
    await assert.rejects(driver.get('temp'), { code: 'SCHEDULER.NOT_FOUND' });
    await waitFor(
      async () =>
        get(d.endpoints[0].port).then(
          () => false,
          () => true,
        ),
      { what: 'removed instance stopped' },
    );
    assert.equal(await driver.remove!('temp'), false);
  });

  it('reports a crash-looping deployment as degraded', async () => {
    await driver.define!('crashy', { command: process.execPath, args: ['-e', 'process.exit(1)'], instances: 1 });
    await waitFor(async () => (await driver.get('crashy')).status === 'degraded', { what: 'degraded status' });
    await assert.rejects(driver.waitReady('crashy', { timeoutMs: 100 }), { code: 'SCHEDULER.TIMEOUT' });
    await driver.remove!('crashy');
  });

  it('a second supervisor on the same Redis stands by instead of running the instances twice', async () => {
    const other = createLocalSupervisor({ redis, prefix, logger: silentLogger(), timings: { leaseMs: 300 } });
    await other.start();
    assert.equal(other.active, false);
    assert.equal(supervisor.active, true);
    await other.close();
  });

  it('without a supervisor, waitReady times out saying none is running', async () => {
    const lonely = createLocalDriver({ redis, prefix: `${prefix}-none`, pollIntervalMs: 10 });
    await lonely.define!('idle', { command: process.execPath, args: [fixture] });
    assert.equal((await lonely.get('idle')).status, 'unknown');
    await assert.rejects(
      lonely.waitReady('idle', { timeoutMs: 50 }),
      (err: any) => err.code === 'SCHEDULER.TIMEOUT' && /no local supervisor is running/.test(err.message),
    );
  });

  it('rejects an invalid definition with SCHEDULER.INVALID', async () => {
    await assert.rejects(
      driver.define!('bad', { command: '', instances: -1 } as never),
      (err: any) => err.code === 'SCHEDULER.INVALID' && /command/.test(err.message),
    );
  });
});

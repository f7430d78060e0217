import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApp } from '../../api/app.ts';
import { createHealthRoutes, type HealthDeps } from '../../api/routes/health.ts';
import type { EngineStatus } from '../../engine/ports/coordination.ts';
import { DURATION_BUCKETS } from '../../engine/ports/run-stats.ts';
import { UnavailableError } from '../../engine/shared/errors.ts';
import { silentLogger } from '../../engine/shared/logger.ts';

/** The health routes read only ports: a coordination store that answers (or not), a queue and stats. */
function appWith(options: { down?: boolean; engines?: EngineStatus[] } = {}) {
  const pings: number[] = [];
  const deps: HealthDeps = {
    coordination: {
      async ping(timeoutMs) {
        pings.push(timeoutMs);
        if (options.down) throw new UnavailableError('REDIS.UNAVAILABLE', 'connect ECONNREFUSED 127.0.0.1:1');
      },
      engines: { beat: async () => undefined, remove: async () => undefined, list: async () => options.engines ?? [] },
    },
    queue: { counts: async () => ({ waiting: 1, active: 2, delayed: 0, failed: 0, completed: 5 }) },
    stats: { read: async () => ({ byStatus: { succeeded: 3 }, buckets: DURATION_BUCKETS.map(() => 3), count: 3, sum: 0.3 }) },
  };
  const app = createApp({ logger: silentLogger(), tokens: [], routers: [], rootRouters: [createHealthRoutes(deps)] });
  const get = async (path: string) => {
    const res = await app.request(path);
    return { status: res.status, text: await res.text() };
  };
  return { get, pings };
}

const engine = (id: string, healthy: boolean): EngineStatus => ({ id, pid: 1, healthy, active: 0, at: new Date().toISOString() });

describe('health routes on ports', () => {
  it('/readyz is ready when the store answers and every engine is healthy', async () => {
    const { get, pings } = appWith({ engines: [engine('a', true), engine('b', true)] });
    const res = await get('/readyz');
    assert.equal(res.status, 200);
    const body = JSON.parse(res.text);
    assert.equal(body.ok, true);
    assert.equal(body.checks.redis.ok, true);
    assert.match(body.checks.engines.detail, /2\/2/);
    assert.ok(pings[0] > 0 && pings[0] <= 5000, 'the probe bounds the ping');
  });

  it('/readyz is 503 naming what is wrong: no engine, an unhealthy one, the store down', async () => {
    const none = JSON.parse((await appWith().get('/readyz')).text);
    assert.equal(none.ok, false);
    assert.match(none.checks.engines.detail, /no engine/);
    const sick = await appWith({ engines: [engine('a', true), engine('b', false)] }).get('/readyz');
    assert.equal(sick.status, 503);
    assert.match(JSON.parse(sick.text).checks.engines.detail, /1\/2/);
    const down = await appWith({ down: true }).get('/readyz');
    assert.equal(down.status, 503);
    const checks = JSON.parse(down.text).checks;
    assert.equal(checks.redis.ok, false);
    assert.match(checks.redis.detail, /ECONNREFUSED/);
  });

  it('/metrics serves queue counts, finished runs and the duration histogram', async () => {
    const { get } = appWith();
    const res = await get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.text, /veer_queue_jobs\{state="active"\} 2/);
    assert.match(res.text, /veer_runs_finished_total\{status="succeeded"\} 3/);
    assert.match(res.text, /veer_run_duration_seconds_bucket\{le="\+Inf"\} 3/);
    assert.equal((await get('/healthz')).status, 200);
  });
});

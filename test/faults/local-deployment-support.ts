import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { ObservedRecord } from '../../adapters/scheduler/local/state.ts';
import { runsInstance } from '../../adapters/scheduler/local/process-identity.ts';
import { startEngineProcess } from '../helpers/engine-process.ts';
import { freePort } from '../helpers/free-port.ts';
import { fetchOnce, startLoad, type LoadResult, type RunningLoad } from '../helpers/load.ts';
import type { ServiceProcess } from '../helpers/process.ts';
import type { PersistentRedis } from '../helpers/redis-server.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { cleanup, startE2eAgent, waitLive, type E2eAgent } from '../e2e/support.ts';

/** Shared pieces of the local-deployment fault tests (not a test file itself). */

const fixture = fileURLToPath(new URL('../scheduler/fixtures/http-instance.mjs', import.meta.url));
export const WAIT = { timeoutMs: 30_000, intervalMs: 50 };

/** Env for engines running the local scheduler with quick health probes. */
export const LOCAL_ENV = { VEER_SCHEDULER: 'local', VEER_LOCAL_HEALTH_INTERVAL_MS: '200', VEER_LOCAL_STOP_GRACE_MS: '3000' };

/** The supervisor's observed record of `name`, read straight from Redis. */
export async function observed(redis: Redis, prefix: string, name: string): Promise<ObservedRecord | undefined> {
  const raw = await redis.get(`{${prefix}:scheduler}:observed:${name}`);
  return raw ? (JSON.parse(raw) as ObservedRecord) : undefined;
}

/** Instance pids, sorted, as recorded and as the processes themselves answer on their ports. */
export async function servingPids(t: TestSystem, name: string): Promise<{ recorded: number[]; answered: number[] }> {
  const d = (await t.call('GET', `/api/v1/deployments/${name}`)).body;
  const answered = await Promise.all(
    d.endpoints.map(async (e: { port: number }) => JSON.parse((await fetchOnce(`http://127.0.0.1:${e.port}/`)).body).pid as number),
  );
  const rec = await observed(t.redisClient, t.env.VEER_REDIS_PREFIX!, name);
  return { recorded: (rec?.instances ?? []).map((i) => i.pid!).sort(), answered: answered.sort() };
}

/** Defines `name` with `instances` fixture processes and waits until all are ready. */
export async function defineReady(t: TestSystem, name: string, instances: number): Promise<void> {
  const def = await t.call('PUT', `/api/v1/deployments/${name}`, { command: process.execPath, args: [fixture], instances, healthCheck: '/health' });
  assert.ok(def.status === 200 || def.status === 202, JSON.stringify(def.body));
  await waitFor(
    async () => {
      const d = (await t.call('GET', `/api/v1/deployments/${name}`)).body;
      return d.readyInstances === instances && d.status === 'ready';
    },
    { ...WAIT, what: `${instances} ready instances of ${name}` },
  );
}

/** A gateway whose one route follows deployment `name`; resolves with its URL once it serves. */
export async function gatewayTo(t: TestSystem, name: string): Promise<string> {
  const port = await freePort();
  const gw = await t.call('PUT', `/api/v1/gateways/${name}`, { port, routes: { main: { targets: { deployment: name, port: 'http' } } } });
  assert.ok(gw.status === 200 || gw.status === 201, JSON.stringify(gw.body));
  await waitLive(t, name);
  const url = `http://127.0.0.1:${port}/`;
  await waitFor(async () => (await fetchOnce(url)).status === 200, { ...WAIT, what: 'the gateway to serve the deployment' });
  return url;
}

/** The parent pid of `pid` (field 4 of /proc/<pid>/stat): the supervisor's engine that spawned it. */
export const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);

/** Ids of the local supervisors present (leading or standing by), as they announce themselves in Redis. */
export async function supervisorsPresent(redis: Redis, prefix: string): Promise<string[]> {
  return redis.zrangebyscore(`{${prefix}:scheduler}:supervisor:peers`, `(${Date.now()}`, '+inf');
}

/** Best effort after a failed test: SIGKILL instance processes still running (checked by /proc). */
export function killLeftovers(pids: Array<{ pid: number; id: string }>): void {
  for (const { pid, id } of pids) {
    if (!runsInstance(pid, id)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/**
 * What a local-deployment fault test has started and must clean up. The test owns it and
 * passes it to the helpers below, which fill it in as they go, so that a failure half-way
 * still cleans up whatever was started.
 */
export interface Stage {
  redis?: PersistentRedis;
  t?: TestSystem;
  agent?: E2eAgent;
  load?: RunningLoad;
  engines: ServiceProcess[];
  started: Array<{ pid: number; id: string }>;
}

export const newStage = (): Stage => ({ engines: [], started: [] });

/** Stops everything on the stage, then SIGKILLs instance processes still running. */
export async function cleanUpStage(stage: Stage): Promise<void> {
  const { load, agent, engines, t, redis } = stage;
  await cleanup([load && (() => load.stop()), agent?.stop, ...engines.map((e) => () => e.stop()), t?.stop, redis?.stop]);
  killLeftovers(stage.started);
}

/**
 * Defines deployment `shop` (two instances), starts the e2e agent and a gateway to it.
 * Resolves with the gateway URL, the serving pids and the observed record; the instances go on the stage.
 */
export async function serveShop(
  stage: Stage,
  t: TestSystem,
): Promise<{ url: string; before: { recorded: number[]; answered: number[] }; record: ObservedRecord }> {
  await defineReady(t, 'shop', 2);
  stage.agent = await startE2eAgent(t);
  const url = await gatewayTo(t, 'shop');
  const before = await servingPids(t, 'shop');
  const record = (await observed(t.redisClient, t.env.VEER_REDIS_PREFIX!, 'shop'))!;
  stage.started = record.instances.map((i) => ({ pid: i.pid!, id: i.id }));
  return { url, before, record };
}

/** Starts continuous load on `url` (on the stage) and waits for its first 100 requests. */
export async function loadTo(stage: Stage, url: string, what: string): Promise<RunningLoad> {
  const load = startLoad({ url, concurrency: 4, maxMs: 120_000 });
  stage.load = load;
  await waitFor(() => load.snapshot().requests >= 100, { ...WAIT, what });
  return load;
}

/**
 * A test system with two engine processes on it, serving `shop` under load (see serveShop and
 * loadTo); `leader` is the engine whose supervisor runs the instances (their parent).
 * `readiness` is what to wait for before defining: both engines heart-beating, or both local supervisors present.
 */
export async function twoEnginesServingShop(stage: Stage, readiness: 'heartbeats' | 'supervisors', loadWhat: string) {
  const t = await startTestSystem({ engine: false, env: LOCAL_ENV });
  stage.t = t;
  const prefix = t.env.VEER_REDIS_PREFIX!;
  const engines = stage.engines;
  for (let i = 0; i < 2; i++) engines.push(startEngineProcess({ ...t.env }));
  if (readiness === 'heartbeats') {
    await waitFor(
      async () => {
        const live = (await t.system.redis.coordination.engines.list()).map((e) => e.pid);
        for (const e of engines) e.assertRunning();
        return engines.every((e) => live.includes(e.child.pid!));
      },
      { ...WAIT, what: 'two engines heart-beating' },
    );
  } else {
    await waitFor(
      async () => {
        for (const e of engines) e.assertRunning();
        return (await supervisorsPresent(t.redisClient, prefix)).length === 2;
      },
      { ...WAIT, what: 'two local supervisors present' },
    );
  }
  const { url, before, record } = await serveShop(stage, t);
  const leader = engines.find((e) => e.child.pid === parentOf(before.answered[0]!));
  assert.ok(leader, 'one of the two engines runs the instances');
  const load = await loadTo(stage, url, loadWhat);
  return { t, prefix, before, record, leader, load };
}

/** Waits for 400 more requests, stops the load (off the stage) and reads the serving pids again. */
export async function finishLoad(
  stage: Stage,
  t: TestSystem,
  load: RunningLoad,
  what: string,
): Promise<{ total: LoadResult; after: { recorded: number[]; answered: number[] } }> {
  const at = load.snapshot().requests;
  await waitFor(() => load.snapshot().requests >= at + 400, { ...WAIT, what });
  const total = await load.stop();
  stage.load = undefined;
  const after = await servingPids(t, 'shop');
  return { total, after };
}

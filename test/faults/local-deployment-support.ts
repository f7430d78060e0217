import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { ObservedRecord } from '../../adapters/scheduler/local/state.ts';
import { runsInstance } from '../../adapters/scheduler/local/process-identity.ts';
import { freePort } from '../helpers/free-port.ts';
import { fetchOnce } from '../helpers/load.ts';
import type { TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { waitLive } from '../e2e/support.ts';

/** Shared pieces of the local-deployment fault tests (not a test file itself). */

const fixture = fileURLToPath(new URL('../scheduler/fixtures/http-instance.mjs', import.meta.url));
export const WAIT = { timeoutMs: 30_000, intervalMs: 50 };

/** Env for engines running the local scheduler with quick health probes. */
export const LOCAL_ENV = { VEER_SCHEDULER: 'local', VEER_LOCAL_HEALTH_INTERVAL_MS: '200', VEER_LOCAL_STOP_GRACE_MS: '3000' };

/** The supervisor's observed record of `name`, read straight from Redis. */
export async function observed(redis: Redis, prefix: string, name: string): Promise<ObservedRecord | undefined> {
  const raw = await redis.get(`${prefix}:scheduler:observed:${name}`);
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
  return redis.zrangebyscore(`${prefix}:scheduler:supervisor:peers`, `(${Date.now()}`, '+inf');
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

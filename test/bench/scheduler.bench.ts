/**
 * Local scheduler overhead next to doing it by hand, on the same machine in the same run.
 *  - start: spawn 4 instances of the test service directly and wait until each answers
 *    /health (baseline) vs. `scale(0 → 4)` + `waitReady` through Redis and the supervisor
 *  - read: `driver.get()` (HGET + GET) vs. a raw Redis GET round trip
 *  - stop: `scale(4 → 0)` + `waitReady` with VEER_LOCAL_DRAIN_MS=0 and with the default 2000
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createLocalDriver } from '../../adapters/scheduler/local/driver.ts';
import { createLocalSupervisor } from '../../adapters/scheduler/local/supervisor.ts';
import { silentLogger } from '../../engine/shared/logger.ts';
import { freePort } from '../helpers/free-port.ts';
import { startRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const fixture = fileURLToPath(new URL('../scheduler/fixtures/http-instance.mjs', import.meta.url));
const N = 4;
const ROUNDS = 3;
const READS = 2000;

const health = (port: number) =>
  new Promise<boolean>((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => (res.resume(), resolve(res.statusCode === 200)));
    req.on('error', () => resolve(false));
    req.end();
  });

async function baselineStart(): Promise<number> {
  const t0 = performance.now();
  const ports = await Promise.all(Array.from({ length: N }, () => freePort()));
  const children = ports.map((p) => spawn(process.execPath, [fixture], { env: { PORT: String(p), HOST: '127.0.0.1' }, stdio: 'ignore' }));
  await Promise.all(ports.map((p) => waitFor(() => health(p), { timeoutMs: 20_000, intervalMs: 10 })));
  const ms = performance.now() - t0;
  await Promise.all(children.map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGTERM')))));
  return ms;
}

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x: number) => x.toFixed(1);

const server = await startRedis();
const redis = new Redis(server.url);
try {
  const results: Record<string, number[]> = { baseline: [], start: [], stopNoDrain: [], stopDrain: [] };
  for (const drainMs of [0, 2000]) {
    const prefix = `b${randomUUID().slice(0, 6)}:scheduler`;
    const supervisor = createLocalSupervisor({ redis, prefix, logger: silentLogger(), timings: { drainMs } });
    await supervisor.start();
    const driver = createLocalDriver({ redis, prefix });
    await driver.define!('bench', { command: process.execPath, args: [fixture], instances: 0, healthCheck: '/health' });
    for (let i = 0; i < (drainMs ? 1 : ROUNDS); i++) {
      if (!drainMs) results.baseline.push(await baselineStart());
      let t0 = performance.now();
      await driver.scale('bench', { instances: N });
      await driver.waitReady('bench', { timeoutMs: 30_000 });
      if (!drainMs) results.start.push(performance.now() - t0);
      t0 = performance.now();
      await driver.scale('bench', { instances: 0 });
      await driver.waitReady('bench', { timeoutMs: 30_000 });
      results[drainMs ? 'stopDrain' : 'stopNoDrain'].push(performance.now() - t0);
    }
    if (!drainMs) {
      for (let i = 0; i < 300; i++) await Promise.all([redis.get(`${prefix}:nothing`), driver.get('bench')]); // warm-up
      let t0 = performance.now();
      for (let i = 0; i < READS; i++) await redis.get(`${prefix}:nothing`);
      const raw = (performance.now() - t0) / READS;
      t0 = performance.now();
      for (let i = 0; i < READS; i++) await driver.get('bench');
      const got = (performance.now() - t0) / READS;
      console.log(`read: driver.get ${f(got * 1000)} µs vs raw Redis GET ${f(raw * 1000)} µs (ratio ${f(got / raw)}x, ${READS} sequential calls)`);
    }
    await supervisor.close();
    await redis.del(`${prefix}:desired`);
  }
  const b = med(results.baseline);
  const s = med(results.start);
  console.log(
    `start ${N} instances: scheduler ${f(s)} ms vs direct spawn+health ${f(b)} ms (ratio ${f(s / b)}x; median of ${ROUNDS}; runs ${results.start.map(f).join('/')} vs ${results.baseline.map(f).join('/')})`,
  );
  console.log(`stop ${N} instances: ${f(med(results.stopNoDrain))} ms with drain 0 ms, ${f(results.stopDrain[0])} ms with the default drain of 2000 ms`);
} finally {
  redis.disconnect();
  await server.stop();
}

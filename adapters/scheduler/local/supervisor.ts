import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Logger } from '../../../engine/shared/logger.ts';
import type { DeploymentDefinitionSpec } from '../../../engine/domain/deployments/definition.ts';
import { startInstance, type Instance, type InstanceTimings } from './instance.ts';
import { localKeys, templateOf, type DesiredRecord, type ObservedRecord } from './state.ts';

/**
 * The one process that runs local deployments. It holds a Redis lease so a second
 * supervisor (another engine on the same Redis) stands by instead of doubling processes,
 * reconciles desired → actual on every change notification, instance change and a periodic
 * tick, and publishes observed state for the drivers in every process.
 */
export interface LocalSupervisorOptions {
  redis: Redis;
  prefix: string;
  logger: Logger;
  timings?: Partial<InstanceTimings> & { reconcileIntervalMs?: number; leaseMs?: number };
  /** Env every instance starts from; default PATH, HOME, LANG, TMPDIR of this process (no secrets). */
  baseEnv?: Record<string, string>;
}

export interface LocalSupervisor {
  /** Resolves once this supervisor holds the lease or has started standing by. */
  start(): Promise<void>;
  /** Whether this supervisor currently runs the deployments. */
  readonly active: boolean;
  /** Stops every instance (SIGTERM, then SIGKILL after the grace period) and releases the lease. */
  close(): Promise<void>;
}

export const DEFAULT_TIMINGS: InstanceTimings & { reconcileIntervalMs: number; leaseMs: number } = {
  healthIntervalMs: 1000,
  healthTimeoutMs: 2000,
  drainMs: 2000,
  stopGraceMs: 10_000,
  restartBackoffMs: 500,
  restartBackoffMaxMs: 30_000,
  backoffResetMs: 10_000,
  reconcileIntervalMs: 2000,
  leaseMs: 10_000,
};

const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

interface Runtime {
  instances: Instance[];
  generation: number;
  seq: number;
}

export function createLocalSupervisor(options: LocalSupervisorOptions): LocalSupervisor {
  const { redis } = options;
  const keys = localKeys(options.prefix);
  const t = { ...DEFAULT_TIMINGS, ...options.timings };
  const log = options.logger.child({ component: 'local-supervisor' });
  const id = randomUUID();
  const baseEnv = options.baseEnv ?? pickEnv(['PATH', 'HOME', 'LANG', 'TMPDIR']);
  const runtimes = new Map<string, Runtime>();
  let sub: Redis | undefined;
  let active = false;
  let closed = false;
  let leaseTimer: NodeJS.Timeout | undefined;
  let tickTimer: NodeJS.Timeout | undefined;
  let chain = Promise.resolve();
  let pending = false;

  const publish = (name: string) => {
    const rt = runtimes.get(name);
    if (!rt || !active) return;
    const record: ObservedRecord = { generation: rt.generation, instances: rt.instances.map((i) => i.snapshot()), updatedAt: new Date().toISOString() };
    redis.multi().set(keys.observed(name), JSON.stringify(record)).publish(keys.observedChanged, name).exec().catch((err) => log.warn({ err }, 'could not publish observed state'));
  };

  /** Coalesces bursts of triggers into one pass; passes never overlap. */
  const reconcileSoon = () => {
    if (pending || closed || !active) return;
    pending = true;
    chain = chain.then(async () => {
      pending = false;
      await reconcileAll().catch((err) => log.warn({ err }, 'reconcile failed; retrying on the next tick'));
    });
  };

  const reconcileAll = async () => {
    const all = await redis.hgetall(keys.desired);
    for (const name of new Set([...Object.keys(all), ...runtimes.keys()])) {
      if (!active) return;
      reconcile(name, all[name] ? (JSON.parse(all[name]) as DesiredRecord) : undefined);
    }
  };

  const reconcile = (name: string, desired: DesiredRecord | undefined) => {
    let rt = runtimes.get(name);
    if (!rt) {
      if (!desired) return;
      rt = { instances: [], generation: 0, seq: 0 };
      runtimes.set(name, rt);
    }
    const r = rt;
    const live = r.instances.filter((i) => i.state !== 'draining');
    const drain = (i: Instance) =>
      void i.drain().then(() => {
        r.instances = r.instances.filter((x) => x !== i);
        if (!r.instances.length && runtimes.get(name) === r && !desiredNames.has(name)) {
          runtimes.delete(name);
          void redis.del(keys.observed(name)).catch(() => undefined);
        } else publish(name);
        reconcileSoon();
      });
    if (!desired) {
      desiredNames.delete(name);
      live.forEach(drain);
      publish(name);
      return;
    }
    desiredNames.add(name);
    const template = templateOf(desired.spec);
    const spec = JSON.parse(desired.spec) as DeploymentDefinitionSpec;
    const current = live.filter((i) => i.template === template);
    const old = live.filter((i) => i.template !== template);
    for (let n = current.length; n < desired.instances; n++) {
      const inst = startInstance({ id: `${name}-${id.slice(0, 6)}-${++r.seq}`, deployment: name, spec, template, timings: t, baseEnv, logger: log, onChange: () => (publish(name), reconcileSoon()) });
      r.instances.push(inst);
      current.push(inst);
    }
    // Scale down the least useful first: not ready, then the newest.
    const extra = [...current].sort((a, b) => Number(a.ready) - Number(b.ready) || r.instances.indexOf(b) - r.instances.indexOf(a)).slice(0, Math.max(0, current.length - desired.instances));
    extra.forEach(drain);
    // Rolling replacement: keep old-template instances until enough new ones are ready.
    const readyCurrent = current.filter((i) => i.ready && !extra.includes(i)).length;
    const keepOld = Math.max(0, desired.instances - readyCurrent);
    [...old].sort((a, b) => Number(a.ready) - Number(b.ready)).slice(0, Math.max(0, old.length - keepOld)).forEach(drain);
    r.generation = desired.generation;
    publish(name);
  };
  const desiredNames = new Set<string>();

  const acquire = async () => {
    if (closed) return;
    try {
      if (active) {
        if (!(await redis.eval(RENEW_LUA, 1, keys.lease, id, String(t.leaseMs)))) {
          log.error('lost the local supervisor lease to another process; stopping local instances here');
          active = false;
          await stopAll();
        }
      } else if (await redis.set(keys.lease, id, 'PX', t.leaseMs, 'NX')) {
        active = true;
        log.info('local supervisor active');
        await reapOrphans();
        reconcileSoon();
      }
    } catch (err) {
      log.warn({ err }, 'local supervisor lease check failed');
    }
    if (!closed) leaseTimer = setTimeout(() => void acquire(), Math.max(50, Math.floor(t.leaseMs / 3)));
  };

  /** Processes a crashed predecessor left behind still hold ports; stop those that are still ours. */
  const reapOrphans = async () => {
    const names = Object.keys(await redis.hgetall(keys.desired));
    for (const name of names) {
      const raw = await redis.get(keys.observed(name));
      if (!raw) continue;
      for (const i of (JSON.parse(raw) as ObservedRecord).instances) {
        if (!i.pid || !isOurs(i.pid, i.id)) continue;
        log.warn({ pid: i.pid, instance: i.id }, 'stopping an instance left by a previous supervisor');
        try {
          process.kill(i.pid, 'SIGTERM');
        } catch {}
      }
      await redis.del(keys.observed(name));
    }
  };

  const stopAll = async () => {
    const all = [...runtimes.entries()];
    runtimes.clear();
    await Promise.all(all.flatMap(([, rt]) => rt.instances.map((i) => i.drain({ drainMs: 0 }))));
    if (all.length) await redis.del(...all.map(([n]) => keys.observed(n))).catch(() => undefined);
  };

  return {
    get active() {
      return active;
    },
    async start() {
      sub = redis.duplicate();
      sub.on('error', (err) => log.warn({ err }, 'local supervisor subscription error'));
      sub.on('message', () => reconcileSoon());
      await sub.subscribe(keys.desiredChanged);
      await acquire();
      const tick = () => {
        reconcileSoon();
        if (!closed) tickTimer = setTimeout(tick, t.reconcileIntervalMs);
      };
      tickTimer = setTimeout(tick, t.reconcileIntervalMs);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(leaseTimer);
      clearTimeout(tickTimer);
      await chain;
      const wasActive = active;
      active = false;
      await stopAll();
      if (wasActive) await redis.eval(RELEASE_LUA, 1, keys.lease, id).catch(() => undefined);
      sub?.disconnect();
    },
  };
}

function pickEnv(names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((n) => process.env[n] !== undefined).map((n) => [n, process.env[n]!]));
}

/** Linux: the instance id is in the process's environment (VEER_INSTANCE), so a reused pid is never killed. */
function isOurs(pid: number, instanceId: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`VEER_INSTANCE=${instanceId}`);
  } catch {
    return false;
  }
}

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DeploymentDefinitionSpec } from '../../../engine/domain/deployments/definition.ts';
import type { Lease, Leadership } from '../../../engine/ports/coordination.ts';
import type { Logger } from '../../../engine/shared/logger.ts';
import { localSchedulerKeys } from '../../redis/keys.ts';
import { runLeaderLoop } from '../../redis/leader.ts';
import { createRedisLease } from '../../redis/lease.ts';
import { createSubscriber, type Subscriber } from '../../redis/subscriber.ts';
import { startInstance, type AdoptedProcess, type Instance, type InstanceTimings } from './instance.ts';
import { templateOf, type DesiredRecord, type ObservedRecord } from './state.ts';
import { handOver, keepUnlessTaken, sortInheritance } from './succession.ts';

/**
 * The one process that runs local deployments. It holds a Redis lease (the shared lease and
 * leader loop of adapters/redis) so a second supervisor (another engine on the same Redis)
 * stands by instead of doubling processes; leadership changes hands without restarting
 * instances (succession.ts: kept through Redis outages, adopted by a successor, handed over),
 * reconciles desired → actual on every change notification, instance change and a periodic
 * tick, and publishes observed state for the drivers in every process.
 */
export interface LocalSupervisorOptions {
  redis: Redis;
  prefix: string;
  logger: Logger;
  timings?: Partial<InstanceTimings> & { reconcileIntervalMs?: number; leaseMs?: number };
  /** Env every instance starts from (the scheduler config passes PATH, HOME, LANG, TMPDIR; no secrets). Default: empty. */
  baseEnv?: Record<string, string>;
}

export interface LocalSupervisor {
  /** Resolves once this supervisor holds the lease or has started standing by. */
  start(): Promise<void>;
  /** Whether this supervisor currently runs the deployments. */
  readonly active: boolean;
  /**
   * Releases the lease. While another supervisor stands by, hands the instances over to it
   * (those it does not adopt within the hand-over timeout are stopped); otherwise stops every
   * instance (SIGTERM, then SIGKILL after the grace period).
   */
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

interface Runtime {
  instances: Instance[];
  generation: number;
  seq: number;
}

export function createLocalSupervisor(options: LocalSupervisorOptions): LocalSupervisor {
  const { redis } = options;
  const keys = localSchedulerKeys(options.prefix);
  const t = { ...DEFAULT_TIMINGS, ...options.timings };
  const log = options.logger.child({ component: 'local-supervisor' });
  const id = randomUUID();
  const baseEnv = options.baseEnv ?? {};
  const runtimes = new Map<string, Runtime>();
  let sub: Subscriber | undefined;
  let leadership: Leadership | undefined;
  let active = false;
  let closed = false;
  let tickTimer: NodeJS.Timeout | undefined;
  let presenceTimer: NodeJS.Timeout | undefined;
  let chain = Promise.resolve();
  let pending = false;

  const publish = (name: string) => {
    const rt = runtimes.get(name);
    if (!rt || !active) return;
    const record: ObservedRecord = {
      supervisor: id,
      generation: rt.generation,
      instances: rt.instances.map((i) => i.snapshot()),
      updatedAt: new Date().toISOString(),
    };
    redis
      .multi()
      .set(keys.observed(name), JSON.stringify(record))
      .publish(keys.observedChanged, name)
      .exec()
      .catch((err) => log.warn({ err }, 'could not publish observed state'));
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
      const inst = instanceFor(name, spec, template, `${name}-${id.slice(0, 6)}-${++r.seq}`);
      r.instances.push(inst);
      current.push(inst);
    }
    // Scale down the least useful first: not ready, then the newest.
    const extra = [...current]
      .sort((a, b) => Number(a.ready) - Number(b.ready) || r.instances.indexOf(b) - r.instances.indexOf(a))
      .slice(0, Math.max(0, current.length - desired.instances));
    extra.forEach(drain);
    // Rolling replacement: keep old-template instances until enough new ones are ready.
    const readyCurrent = current.filter((i) => i.ready && !extra.includes(i)).length;
    const keepOld = Math.max(0, desired.instances - readyCurrent);
    [...old]
      .sort((a, b) => Number(a.ready) - Number(b.ready))
      .slice(0, Math.max(0, old.length - keepOld))
      .forEach(drain);
    r.generation = desired.generation;
    publish(name);
  };
  const desiredNames = new Set<string>();

  // Every supervisor, leading or standing by, keeps its id in this sorted set scored with the
  // time its presence lapses (renewed every lease/3). A leader that is shut down hands its
  // instances over only when another live one is there to take the lease; alone (one `npm
  // start` stopped with Ctrl-C) it stops them, leaving no process behind.
  const peersKey = `${keys.lease}:peers`;
  const announce = () => {
    const now = Date.now();
    redis
      .multi()
      .zremrangebyscore(peersKey, '-inf', now)
      .zadd(peersKey, now + t.leaseMs, id)
      .exec()
      // A supervisor Redis cannot hear is no successor anyway; the next round retries.
      .catch(() => undefined);
    if (!closed) presenceTimer = setTimeout(announce, Math.max(50, Math.floor(t.leaseMs / 3)));
  };
  /** Whether another supervisor is alive to take the lease; false when Redis does not answer within a second. */
  const successorStandingBy = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 1000)));
    const check = redis.zrangebyscore(peersKey, `(${Date.now()}`, '+inf').then(
      (ids) => ids.some((p) => p !== id),
      () => false,
    );
    try {
      return await Promise.race([check, bound]);
    } finally {
      clearTimeout(timer);
    }
  };
  // Hand-over timeout: the successor must list the instances within it. A standby retries the
  // lease every lease/3 (3.3 s by default) and publishes right after adopting, so the default
  // 5 s covers a shutdown hand-over too, well within boot/shutdown.ts's 10 s close bound.
  const handOverMs = 2 * t.reconcileIntervalMs + 1000;

  const instanceFor = (name: string, spec: DeploymentDefinitionSpec, template: string, instanceId: string, adopted?: AdoptedProcess) =>
    startInstance(
      { id: instanceId, deployment: name, spec, template, timings: t, baseEnv, logger: log, onChange: () => (publish(name), reconcileSoon()) },
      adopted,
    );

  /** While this supervisor holds the lease: run the deployments; once another takes it, hand them over. */
  const lead = async (signal: AbortSignal, lease: Lease) => {
    active = true;
    log.info('local supervisor active');
    try {
      await inherit();
    } catch (err) {
      log.warn({ err }, 'could not look for instances left by a previous supervisor');
    }
    reconcileSoon();
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    active = false;
    await chain;
    if (closed) {
      // Shut down (a rolling restart of engines): restarting the instances would be a burst of
      // 503s at every gateway, so while a standby is alive free the lease at once (it takes it at
      // its next attempt instead of a whole TTL later) and hand over as after losing the lease.
      const freed =
        (await successorStandingBy()) &&
        (await lease.release().then(
          () => true,
          () => false,
        ));
      if (!freed) return stopAll();
      log.info('shutting down with another local supervisor standing by; handing the local instances over');
    } else log.warn('another process took the local supervisor lease; handing the local instances over');
    const instances = new Map([...runtimes].map(([name, rt]) => [name, rt.instances]));
    runtimes.clear();
    desiredNames.clear();
    const read = async (name: string) => {
      const raw = await redis.get(keys.observed(name));
      return raw ? (JSON.parse(raw) as ObservedRecord) : undefined;
    };
    const done = await handOver({ self: id, instances, read, timeoutMs: handOverMs, pollMs: 100 });
    log.warn(done, 'local instances handed over (released) or stopped');
  };

  /**
   * Instances a predecessor (an engine that died, or lost the lease) left running keep their
   * ports and traffic: adopt those that are still the same process and answer; stop the other
   * processes of ours, which only hold ports.
   */
  const inherit = async () => {
    const all = await redis.hgetall(keys.desired);
    for (const [name, raw] of Object.entries(all)) {
      const observed = await redis.get(keys.observed(name));
      if (!observed) continue;
      const desired = JSON.parse(raw) as DesiredRecord;
      const spec = JSON.parse(desired.spec) as DeploymentDefinitionSpec;
      const sorted = await sortInheritance(JSON.parse(observed) as ObservedRecord, { path: spec.healthCheck, timeoutMs: t.healthTimeoutMs });
      const rt: Runtime = { instances: [], generation: 0, seq: 0 };
      for (const { instance: i, adopt } of sorted) {
        if (adopt) {
          log.info({ pid: i.pid, instance: i.id }, 'adopting an instance left by a previous supervisor');
          rt.instances.push(instanceFor(name, spec, i.template, i.id, adopt));
        } else {
          log.warn({ pid: i.pid, instance: i.id }, 'stopping an instance left by a previous supervisor');
          try {
            process.kill(i.pid!, 'SIGTERM');
          } catch {
            // already gone
          }
        }
      }
      if (rt.instances.length) runtimes.set(name, rt);
      else await redis.del(keys.observed(name));
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
      sub = createSubscriber(
        () => redis.duplicate(),
        (err) => log.warn({ err }, 'local supervisor subscription error'),
      );
      await sub.listen(keys.desiredChanged, () => reconcileSoon());
      announce();
      const lease = createRedisLease(redis, { name: 'local-supervisor', key: keys.lease, ttlMs: t.leaseMs, token: id });
      leadership = runLeaderLoop(keepUnlessTaken(lease), {
        ttlMs: t.leaseMs,
        // Local processes are costly to restart: a Redis outage (even one that outlives the lease
        // key) does not stop them, only a lease taken by another.
        holdThroughStoreErrors: true,
        work: lead,
        onError: (err) => log.warn({ err }, 'local supervisor lease check failed'),
      });
      await leadership.ready;
      const tick = () => {
        reconcileSoon();
        if (!closed) tickTimer = setTimeout(tick, t.reconcileIntervalMs);
      };
      tickTimer = setTimeout(tick, t.reconcileIntervalMs);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(tickTimer);
      clearTimeout(presenceTimer);
      // Withdrawn first, so a peer shutting down at the same time does not wait for this one.
      void redis.zrem(peersKey, id).catch(() => undefined);
      await chain;
      active = false;
      // Ends `lead` (which hands the instances over or stops them), then releases the lease.
      await leadership?.stop();
      await stopAll();
      sub?.close();
    },
  };
}

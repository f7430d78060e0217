import type { Redis } from 'ioredis';
import type { Lease } from '../../engine/ports/coordination.ts';
import type { EsQueryCheckpoint, TriggerState } from '../../engine/ports/trigger-state.ts';
import { guarded } from './errors.ts';
import type { RedisKeys } from './keys.ts';
import { setIfHolder } from './lease.ts';

/**
 * Trigger bookkeeping in Redis: `wf:<name>:cron:last` (epoch ms), `events:dispatcher:checkpoint`
 * (an event-store checkpoint), `wf:<name>:es-trigger:checkpoint` (JSON `{f, w, fp}`) with the
 * sorted set `wf:<name>:es-trigger:seen` (member `<index>/<id>`, score = document time), and
 * `events:remote:<url hash>:last`. Leader-only writes compare the lease token in the same
 * script that writes (coordination's lease keys: `<p>:<name>:lock`).
 */
const SET_MAX_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if (not cur) or tonumber(cur) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`;

interface StoredEsCheckpoint {
  f: number;
  w: number;
  fp: string;
}

const toStored = (c: EsQueryCheckpoint): string => JSON.stringify({ f: c.floor, w: c.watermark, fp: c.fingerprint } satisfies StoredEsCheckpoint);

export function createRedisTriggerState(options: { redis: Redis; keys: RedisKeys }): TriggerState {
  const { redis, keys } = options;
  const holder = (lease: Lease, key: string, value: string) => setIfHolder(redis, keys.lease(lease.name), lease.token, key, value);
  return {
    cron: guarded('trigger state', {
      async lastTick(workflow: string) {
        const v = await redis.get(keys.cronLastTick(workflow));
        return v === null ? undefined : Number(v);
      },
      async recordTick(workflow: string, tickMs: number) {
        await redis.eval(SET_MAX_SCRIPT, 1, keys.cronLastTick(workflow), tickMs);
      },
      async initTick(workflow: string, tickMs: number) {
        await redis.set(keys.cronLastTick(workflow), tickMs, 'NX');
      },
    }),
    dispatcher: guarded('trigger state', {
      async checkpoint() {
        return (await redis.get(keys.dispatcherCheckpoint)) ?? undefined;
      },
      async initCheckpoint(checkpoint: string) {
        await redis.set(keys.dispatcherCheckpoint, checkpoint, 'NX');
      },
      saveCheckpoint: (checkpoint: string, lease: Lease) => holder(lease, keys.dispatcherCheckpoint, checkpoint),
    }),
    esQuery: guarded('trigger state', {
      async checkpoint(workflow: string) {
        const raw = await redis.get(keys.esTriggerCheckpoint(workflow));
        if (!raw) return undefined;
        const c = JSON.parse(raw) as StoredEsCheckpoint;
        return { floor: c.f, watermark: c.w, fingerprint: c.fp };
      },
      async reset(workflow: string, checkpoint: EsQueryCheckpoint) {
        await redis.multi().del(keys.esTriggerSeen(workflow)).set(keys.esTriggerCheckpoint(workflow), toStored(checkpoint)).exec();
      },
      saveCheckpoint: (workflow: string, checkpoint: EsQueryCheckpoint, lease: Lease) =>
        holder(lease, keys.esTriggerCheckpoint(workflow), toStored(checkpoint)),
      async seenCount(workflow: string, sinceMs: number) {
        return redis.zcount(keys.esTriggerSeen(workflow), sinceMs, '+inf');
      },
      async seen(workflow: string, ids: string[]) {
        if (ids.length === 0) return [];
        const scores = await redis.zmscore(keys.esTriggerSeen(workflow), ...ids);
        return scores.map((s) => s !== null);
      },
      async markSeen(workflow: string, docs: Array<{ id: string; time: number }>) {
        if (docs.length === 0) return;
        await redis.zadd(keys.esTriggerSeen(workflow), ...docs.flatMap((d) => [d.time, d.id]));
      },
      async forgetSeenBefore(workflow: string, beforeMs: number) {
        await redis.zremrangebyscore(keys.esTriggerSeen(workflow), '-inf', `(${beforeMs}`);
      },
    }),
    remote: guarded('trigger state', {
      async lastEventId(url: string) {
        return (await redis.get(keys.remoteLastEventId(url))) ?? undefined;
      },
      async saveLastEventId(url: string, id: string) {
        await redis.set(keys.remoteLastEventId(url), id);
      },
    }),
  };
}

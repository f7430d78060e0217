import type { Redis } from 'ioredis';
import type { Logger } from '../../engine/shared/logger.ts';
import { createKeys } from './keys.ts';
import { isCluster } from './target.ts';

/**
 * Keys written before they were hash-tagged (`<p>:wf:…`, `<p>:q:…`) are renamed into the
 * tagged layout (`{<p>}:wf:…`, `{<p>:q}:…`) at start-up, so an upgrade keeps workflows,
 * runs, state, secrets, queued runs and local deployments. Only Veer's own families are
 * matched (never `<p>:*` wholesale: another installation may use `<p>:x` as its prefix).
 * Leases are left to expire and channels are not keys. A Cluster never held the old
 * layout (it refused its cross-slot scripts), so nothing is looked for there.
 *
 * Every process of the old version must be stopped first: one still running would keep
 * writing the old names. Two new processes migrating at once are safe: RENAMENX moves a key
 * once, and a key another process moved first is skipped.
 */
/** The layout this code writes; stored in the marker once the old one has been looked for. */
const LAYOUT = 'hash-tagged';

const FAMILIES = [
  'workflows',
  'wf:*',
  'run:*',
  'stats:*',
  'engines',
  'engine:*',
  'events',
  'events:*',
  'secrets',
  'notifiers',
  'notifiers:*',
  'notifier:*',
  'audit',
  'once:*',
  'q:*',
  'metrics:*',
  'scheduler:*',
];

/** Where a legacy key `<p>:<rest>` lives now (undefined: not one of ours). */
export function taggedName(prefix: string, legacy: string): string | undefined {
  if (!legacy.startsWith(`${prefix}:`)) return undefined;
  const rest = legacy.slice(prefix.length + 1);
  const keys = createKeys(prefix);
  if (rest.startsWith('q:')) return `${keys.queuePrefix}:${rest.slice(2)}`;
  if (rest.startsWith('scheduler:')) return `${keys.scheduler}:${rest.slice('scheduler:'.length)}`;
  if (rest.startsWith('metrics:')) return `{${prefix}:metrics}:${rest.slice('metrics:'.length)}`;
  return `{${prefix}}:${rest}`;
}

/** Whether `rest` (a legacy key without `<p>:`) is in one of the families above. */
const ours = (rest: string) => FAMILIES.some((f) => (f.endsWith(':*') ? rest.startsWith(f.slice(0, -1)) : rest === f));

/**
 * One SCAN of `<p>:*` the first time a process of this layout meets the installation, then a
 * marker (`{<p>}:layout`) so later starts cost one GET, not a pass over the whole keyspace.
 */
export async function migrateLegacyKeys(redis: Redis, prefix: string, logger: Logger): Promise<number> {
  if (isCluster(redis)) return 0;
  const marker = createKeys(prefix).layout;
  if ((await redis.get(marker)) === LAYOUT) return 0;
  let moved = 0;
  const runLists: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      if (!ours(key.slice(prefix.length + 1))) continue;
      const tagged = taggedName(prefix, key)!;
      if (RUN_LIST.test(key.slice(prefix.length + 1))) runLists.push(tagged);
      try {
        moved += Number(await redis.renamenx(key, tagged));
      } catch (err) {
        // Moved by a process migrating at the same time.
        if (!/no such key/i.test((err as Error).message)) throw err;
      }
    }
  } while (cursor !== '0');
  const indexed = await indexOldRuns(redis, createKeys(prefix).runsAll, runLists);
  await redis.set(marker, LAYOUT);
  if (moved) logger.info({ keys: moved, runs: indexed, prefix }, 'renamed keys of the old layout into hash-tagged names (README "Redis key layout")');
  return moved;
}

/** `wf:<name>:runs`: a workflow's run list (names are [a-z0-9-]). */
const RUN_LIST = /^wf:[a-z0-9-]+:runs$/;
/** Run lists merged per ZUNIONSTORE: bounded arguments, whatever the number of workflows. */
const UNION_BATCH = 100;

/**
 * The old layout had no list of every run (`runs:all`, GET /api/v1/runs): it is the union of
 * the workflows' run lists, same members and scores (the creation time), so it is built from
 * them and runs from before the upgrade are listed too. Idempotent (MAX of equal scores).
 */
async function indexOldRuns(redis: Redis, runsAll: string, runLists: string[]): Promise<number> {
  for (let i = 0; i < runLists.length; i += UNION_BATCH) {
    const batch = runLists.slice(i, i + UNION_BATCH);
    await redis.zunionstore(runsAll, batch.length + 1, runsAll, ...batch, 'AGGREGATE', 'MAX');
  }
  return runLists.length ? redis.zcard(runsAll) : 0;
}

/** The start-up step of every process: upgrades the old layout, and never blocks start-up on it. */
export async function migrateKeys(redis: Redis, prefix: string, logger: Logger): Promise<void> {
  try {
    await migrateLegacyKeys(redis, prefix, logger);
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'could not look for keys of the old Redis layout; restart once Redis answers to upgrade them');
  }
}

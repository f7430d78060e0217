import { circuitBreaker, ConsecutiveBreaker, handleWhen, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, type IKeyValue, type Watcher } from 'etcd3';
import type { Logger } from '../../engine/shared/logger.ts';
import { kvCompacted, kvConflict, kvInvalid, kvUnavailable, timeoutError, withTimeout, type KvErrorContext } from './errors.ts';
import { byKey, checkKey, checkPrefix, checkRevision, checkTtl, normalizeRoot, underPrefix } from './keys.ts';
import type { KvEntry, KvPutOptions, KvStore, KvWatch, KvWatchEvent, KvWatchOptions } from '../../engine/ports/kv-store.ts';
import { createKvWatch, raceAbort } from './watch-stream.ts';

/**
 * etcd v3 (gRPC, etcd3 client) store. Keys are `<prefix>/<key>`.
 * - revision = the key's mod_revision; a position is the store revision (list() returns
 *   the response header's revision), so both start a watch at `position + 1`.
 * - CAS = a transaction comparing mod_revision (`'0'` compares create_revision == 0).
 * - TTL = a lease per TTL'd write (no keep-alive: writing again is the refresh); etcd deletes
 *   the key when the lease expires and watchers get a `delete` event.
 * - A watch whose connection is lost keeps resuming from its last revision for `timeoutMs`;
 *   after that it fails with KV.UNAVAILABLE. A compacted start revision gives KV.COMPACTED.
 * - Recovery: etcd3's default fault handling (3 retries, then a per-host circuit breaker
 *   open for 5 s after 3 failures) kept every call failing for 5 s after etcd was back. Here a
 *   call is retried only on another endpoint, and a host's breaker opens for BREAKER_OPEN_MS
 *   (250 ms), then lets one call through: calls work again < 1 s after etcd answers
 *   (test/faults/etcd-recovery.test.ts measures 30-260 ms). Watch streams reconnect with a
 *   backoff capped at the same 250 ms.
 */
export interface EtcdKvStoreOptions {
  /** Endpoint URL(s), comma-separated: 'http://127.0.0.1:2379'. */
  url: string;
  /** Store prefix, default 'veer'. */
  prefix?: string;
  auth?: { username: string; password: string };
  /** Injected client (tests); not closed by close(). */
  client?: Etcd3;
  logger?: Logger;
  /** Upper bound of every operation; also how long a watch may stay disconnected. Default 5000 ms. */
  timeoutMs?: number;
}

export function createEtcdKvStore(options: EtcdKvStoreOptions): KvStore {
  const kind = 'etcd';
  const root = normalizeRoot(kind, options.prefix ?? 'veer');
  const timeoutMs = options.timeoutMs ?? 5000;
  const ctx: KvErrorContext = { kind, url: options.url };
  const owned = !options.client;
  let client = options.client;
  const watches = new Set<KvWatch>();
  let closed = false;

  const full = (key: string) => `${root}/${key}`;
  const strip = (key: string) => key.slice(root.length + 1);
  /** [start, end) of a whole-segment prefix; results still need `underPrefix` (e.g. 'gw-x' < 'gw0'). */
  const range = (prefix: string) => (prefix === '' ? { start: `${root}/`, end: `${root}0` } : { start: full(prefix), end: `${full(prefix)}0` });

  function etcd(): Etcd3 {
    if (closed) throw kvInvalid(kind, 'the store is closed');
    const hosts = options.url.split(',').map((h) => h.trim());
    client ??= new Etcd3({
      hosts,
      dialTimeout: timeoutMs,
      ...(options.auth ? { auth: options.auth } : {}),
      defaultCallOptions: (c) => (c.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      // The default watch backoff grows to 30 s, and its pending timer keeps a closed
      // process alive that long; cap it at the recovery bound (and below the watch's deadline).
      faultHandling: {
        watchBackoff: backoff(50, Math.min(BREAKER_OPEN_MS, Math.max(100, Math.floor(timeoutMs / 4)))),
        global: retryOnOtherHosts(hosts.length),
        host: () => shortBreaker(),
      },
      // etcd3 recreates a host's channels after a connection failure, so gRPC's own reconnect
      // backoff (1 s growing to 120 s) did not show in the recovery test even after an 8 s
      // outage; it is capped too, for a channel that outlives a failure.
      grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 50, 'grpc.max_reconnect_backoff_ms': BREAKER_OPEN_MS },
    });
    return client;
  }

  async function call<T>(op: string, key: string, fn: (c: Etcd3) => Promise<T>): Promise<T> {
    const c = etcd();
    try {
      return await withTimeout(fn(c), timeoutMs, () => timeoutError(timeoutMs));
    } catch (err) {
      throw kvUnavailable(ctx, op, full(key), err);
    }
  }

  const entryOf = (kv: IKeyValue): KvEntry => ({ key: strip(kv.key.toString()), value: kv.value.toString(), revision: String(kv.mod_revision) });
  const compare = (c: Etcd3, key: string, rev: string) => (rev === '0' ? c.if(full(key), 'Create', '==', 0) : c.if(full(key), 'Mod', '==', rev));
  const actualOf = (res: { responses: Array<{ response_range?: { kvs: IKeyValue[] } | null }> }) =>
    String(res.responses[0]?.response_range?.kvs[0]?.mod_revision ?? '0');

  return {
    kind,
    capabilities: { ttl: true, history: true },

    async get(key: string): Promise<KvEntry | undefined> {
      checkKey(kind, key);
      const res = await call('get', key, (c) => c.get(full(key)).exec());
      return res.kvs[0] ? entryOf(res.kvs[0]) : undefined;
    },

    async put(key: string, value: string, opts: KvPutOptions = {}): Promise<string> {
      checkKey(kind, key);
      if (typeof value !== 'string') throw kvInvalid(kind, `the value of ${key} must be a string`);
      const ifRevision = checkRevision(kind, opts.ifRevision);
      const ttl = checkTtl(kind, opts.ttlSeconds, true);
      return call('put', key, async (c) => {
        const put = c.put(full(key)).value(value);
        if (ttl !== undefined) put.lease(await c.lease(Math.max(1, Math.ceil(ttl)), { autoKeepAlive: false }).grant());
        if (ifRevision === undefined) return String((await put.exec()).header.revision);
        const res = await compare(c, key, ifRevision)
          .then(put)
          .else(c.get(full(key)))
          .commit();
        if (!res.succeeded) throw kvConflict(ctx, 'put', key, ifRevision, actualOf(res));
        return String(res.header.revision);
      });
    },

    async delete(key: string, opts: { ifRevision?: string } = {}): Promise<boolean> {
      checkKey(kind, key);
      const ifRevision = checkRevision(kind, opts.ifRevision);
      return call('delete', key, async (c) => {
        if (ifRevision === undefined) return Number((await c.delete().key(full(key)).exec()).deleted) > 0;
        if (ifRevision === '0') {
          const res = await compare(c, key, '0')
            .else(c.get(full(key)))
            .commit();
          if (!res.succeeded) throw kvConflict(ctx, 'delete', key, '0', actualOf(res));
          return false;
        }
        const res = await compare(c, key, ifRevision)
          .then(c.delete().key(full(key)))
          .else(c.get(full(key)))
          .commit();
        if (!res.succeeded) throw kvConflict(ctx, 'delete', key, ifRevision, actualOf(res));
        return true;
      });
    },

    async list(prefix: string): Promise<{ entries: KvEntry[]; position: string }> {
      checkPrefix(kind, prefix);
      const res = await call('list', prefix, (c) => c.getAll().inRange(range(prefix)).exec());
      const entries = res.kvs
        .map(entryOf)
        .filter((e) => underPrefix(e.key, prefix))
        .sort(byKey);
      return { entries, position: String(res.header.revision) };
    },

    watch(prefix: string, opts: KvWatchOptions = {}): KvWatch {
      checkPrefix(kind, prefix);
      const from = checkRevision(kind, opts.fromPosition, 'fromPosition');
      const queue: KvWatchEvent[] = [];
      let failure: Error | undefined;
      let wake: (() => void) | undefined;
      let graceTimer: NodeJS.Timeout | undefined;
      const notify = () => {
        wake?.();
        wake = undefined;
      };
      const fail = (err: Error) => {
        failure ??= err;
        notify();
      };
      const key = prefix ? full(prefix) : root;

      let watcher: Watcher | undefined;
      try {
        const builder = etcd().watch().inRange(range(prefix));
        if (from !== undefined) builder.startRevision(String(BigInt(from) + 1n));
        watcher = builder.watcher();
      } catch (err) {
        fail(kvUnavailable(ctx, 'watch', key, err));
      }
      let connected = false;
      // Until the first connect, and while disconnected, a deadline runs: a watch on a dead
      // store fails instead of waiting forever (the client would retry indefinitely).
      const arm = () => {
        if (graceTimer) return; // reconnect attempts must not push the deadline back
        graceTimer = setTimeout(
          () =>
            fail(
              kvUnavailable(
                ctx,
                'watch',
                key,
                new Error(connected ? `watch stream lost and not re-established within ${timeoutMs} ms` : `watch not established within ${timeoutMs} ms`),
              ),
            ),
          timeoutMs,
        );
      };
      arm();
      watcher
        ?.on('connected', () => {
          connected = true;
          clearTimeout(graceTimer);
          graceTimer = undefined;
        })
        .on('disconnected', () => arm())
        .on('error', (err) => {
          // etcd3 drops the response's compact_revision (the message is just "Watcher
          // canceled:"), so ask etcd whether the start revision is still readable.
          const start = from === undefined ? undefined : String(BigInt(from) + 1n);
          const probe =
            start === undefined
              ? Promise.resolve(false)
              : withTimeout(etcd().get(key).revision(start).exec(), timeoutMs, () => timeoutError(timeoutMs)).then(
                  () => false,
                  (e: Error) => /compact/i.test(e.message),
                );
          void probe.then((compacted) =>
            fail(
              compacted || /compact/i.test(err.message)
                ? kvCompacted(kind, prefix, from ?? '(now)', 'etcd compacted its history past that revision')
                : kvUnavailable(ctx, 'watch', key, err),
            ),
          );
        })
        .on('put', (kv) => {
          const e = entryOf(kv);
          if (underPrefix(e.key, prefix)) queue.push({ type: 'put', key: e.key, value: e.value, revision: e.revision });
          notify();
        })
        .on('delete', (kv) => {
          const k = strip(kv.key.toString());
          if (underPrefix(k, prefix)) queue.push({ type: 'delete', key: k, revision: String(kv.mod_revision) });
          notify();
        });

      const watch = createKvWatch(
        {
          pull: async (signal) => {
            for (;;) {
              if (queue.length) return queue.splice(0);
              if (failure) throw failure;
              if (signal.aborted) return [];
              await raceAbort(new Promise<void>((resolve) => (wake = resolve)), signal).catch(() => undefined);
            }
          },
          close: async () => {
            clearTimeout(graceTimer);
            watches.delete(watch);
            await withTimeout(watcher?.cancel() ?? Promise.resolve(), timeoutMs, () => timeoutError(timeoutMs)).catch(() => undefined);
          },
        },
        opts.signal,
      );
      watches.add(watch);
      return watch;
    },

    async close(): Promise<void> {
      if (closed) return;
      await Promise.all([...watches].map((w) => w.close()));
      closed = true;
      if (owned) client?.close();
    },
  };
}

/** Exponential backoff in cockatiel's IBackoff shape (duration + next), without importing it. */
function backoff(ms: number, max: number): { duration: number; next: () => ReturnType<typeof backoff> } {
  return { duration: ms, next: () => backoff(Math.min(ms * 2, max), max) };
}

/** How long a host's breaker stays open after BREAKER_FAILURES consecutive failures. */
const BREAKER_OPEN_MS = 250;
const BREAKER_FAILURES = 3;

/**
 * Per host: after 3 consecutive connection-level failures, refuse calls for 250 ms (so a dead
 * endpoint of several is skipped), then let one through: etcd3's own breaker, with a short open
 * time instead of its 5 s.
 */
function shortBreaker() {
  return circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: BREAKER_OPEN_MS, breaker: new ConsecutiveBreaker(BREAKER_FAILURES) });
}

/** Global: a call that failed on one endpoint is tried once on each other endpoint, never again on the same. */
function retryOnOtherHosts(hosts: number) {
  return retry(handleWhen(isRecoverableError), { maxAttempts: hosts - 1 });
}

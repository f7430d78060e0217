import type { KvStore, KvWatch } from '../../engine/ports/kv-store.ts';
import { GATEWAYS_PREFIX } from '../../engine/domain/gateways/keys.ts';
import type { Logger } from '../../engine/shared/logger.ts';
import { Backoff } from '../../engine/shared/retry.ts';

export interface StoredGateway {
  value: string;
  revision: string;
}

export interface GatewayWatcherOptions {
  kv: KvStore;
  logger: Logger;
  /** Called with the complete desired state after every list and every change. */
  onChange: (gateways: ReadonlyMap<string, StoredGateway>) => void;
  /** Reports reachability of the store (for the agent's status). */
  onConnection: (connected: boolean, error?: unknown) => void;
  /** First pause after the store failed (default 100 ms); doubles per failure up to `retryMaxMs` (default 2 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

export interface GatewayWatcher {
  /** Resolves after the first list succeeded or failed, so start-up never blocks on a dead store. */
  start(): Promise<void>;
  /** Drops the current watch and starts over with a list (used when the store is back after an outage the watch may not have noticed). */
  restart(): void;
  close(): Promise<void>;
}

/**
 * list + watch-from-position, forever: the watch starts at the position the list returned,
 * so no change is lost between them. When the store goes away the loop backs off and starts
 * over with a fresh list (which also catches up on anything missed); HAProxy keeps serving
 * whatever was applied last meanwhile.
 */
export function createGatewayWatcher(options: GatewayWatcherOptions): GatewayWatcher {
  const { kv } = options;
  const log = options.logger.child({ component: 'gateway-watcher' });
  const desired = new Map<string, StoredGateway>();
  let closed = false;
  let abort: AbortController | undefined;
  let watch: KvWatch | undefined;
  let loop: Promise<void> | undefined;
  let wakeSleep: (() => void) | undefined;
  let restarting = false;
  let phase: 'listing' | 'watching' | 'sleeping' = 'listing';

  const nameOf = (key: string) => {
    if (!key.startsWith(`${GATEWAYS_PREFIX}/`)) return undefined;
    const name = key.slice(GATEWAYS_PREFIX.length + 1);
    return name && !name.includes('/') ? name : undefined;
  };
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wakeSleep = () => {
        clearTimeout(t);
        r();
      };
    });

  const run = async (first: () => void) => {
    // Jittered (each pause in [half, full]): a fleet of agents whose store comes back must not all list at once.
    const backoff = new Backoff({ minMs: options.retryMinMs ?? 100, maxMs: options.retryMaxMs ?? 2000 });
    while (!closed) {
      await watch?.close().catch(() => undefined);
      watch = undefined;
      abort = new AbortController();
      phase = 'listing';
      try {
        const { entries, position } = await kv.list(GATEWAYS_PREFIX);
        desired.clear();
        for (const e of entries) {
          const name = nameOf(e.key);
          if (name) desired.set(name, { value: e.value, revision: e.revision });
        }
        options.onConnection(true);
        options.onChange(desired);
        first();
        backoff.reset();
        watch = kv.watch(GATEWAYS_PREFIX, { fromPosition: position, signal: abort.signal });
        phase = 'watching';
        for await (const ev of watch) {
          const name = nameOf(ev.key);
          if (!name) continue;
          if (ev.type === 'put') desired.set(name, { value: ev.value, revision: ev.revision });
          else desired.delete(name);
          options.onChange(desired);
        }
        if (restarting) {
          restarting = false;
          continue;
        }
        if (!closed) throw new Error(`the ${kv.kind} watch ended unexpectedly`);
      } catch (err) {
        if (closed) break;
        if (restarting) {
          restarting = false;
          continue;
        }
        // Fell behind the store's change log: nothing is wrong with the store, just list again.
        if ((err as { code?: string }).code === 'KV.COMPACTED') {
          log.info('watch position compacted away; listing again');
          continue;
        }
        options.onConnection(false, err);
        first();
        const pause = backoff.next();
        log.warn({ err: (err as Error).message, retryInMs: pause }, `${kv.kind} store unreachable; serving the last applied gateways`);
        await watch?.close().catch(() => undefined);
        phase = 'sleeping';
        await sleep(pause);
      }
    }
  };

  return {
    start() {
      return new Promise<void>((resolve) => {
        let done = false;
        loop = run(() => {
          if (!done) {
            done = true;
            resolve();
          }
        });
      });
    },
    restart() {
      if (phase === 'sleeping') return wakeSleep?.();
      if (phase !== 'watching') return;
      restarting = true;
      abort?.abort();
      void watch?.close().catch(() => undefined);
    },
    async close() {
      closed = true;
      abort?.abort();
      wakeSleep?.();
      await watch?.close().catch(() => undefined);
      await loop;
    },
  };
}

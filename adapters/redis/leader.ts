import type { Lease, LeaderOptions, Leadership } from '../../engine/ports/coordination.ts';
import { Backoff } from '../../engine/shared/retry.ts';
import { delay } from '../../engine/shared/wait.ts';

/**
 * The one leader loop (event dispatcher, Elasticsearch triggers, remote event sources, the
 * local scheduler's supervisor): compete for `lease`; while held, renew it every ttl/3 and
 * run `work` with a signal that aborts when the lease is lost (renewal refused, or no
 * successful renewal for a whole TTL) or on `stop()`. A standby retries every ttl/3, so a
 * dead leader is replaced about one TTL after its last renewal. A throwing `work` is
 * retried with backoff from `retryMs`.
 */
export function runLeaderLoop(lease: Lease, options: LeaderOptions): Leadership {
  const { ttlMs } = options;
  const retryMs = options.retryMs ?? 1000;
  const standbyMs = Math.max(50, Math.floor(ttlMs / 3));
  const renewMs = Math.max(20, Math.floor(ttlMs / 3));
  const stop = new AbortController();
  const backoff = new Backoff({ minMs: retryMs, maxMs: retryMs * 8 });
  const noop = () => undefined;
  let leader = false;
  let everHeld = false;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));

  async function session(): Promise<void> {
    const lost = new AbortController();
    const onStop = () => lost.abort();
    stop.signal.addEventListener('abort', onStop, { once: true });
    let renewedAt = Date.now();
    const renew = setInterval(() => {
      lease.renew().then(
        (ok) => (ok ? (renewedAt = Date.now()) : lost.abort()),
        (err) => {
          options.onError?.(err);
          // The lease may still be ours in the store: keep working until it must have expired.
          if (!options.holdThroughStoreErrors && Date.now() - renewedAt >= ttlMs) lost.abort();
        },
      );
    }, renewMs);
    leader = true;
    try {
      const work = options.work(lost.signal, lease);
      resolveReady();
      await work;
      backoff.reset();
      // Work that returns by itself (e.g. it saw the lease taken) gets a pause before the next round.
      if (!lost.signal.aborted) await delay(renewMs, stop.signal).catch(noop);
    } catch (err) {
      if (!lost.signal.aborted) {
        options.onError?.(err);
        await backoff.wait(stop.signal).catch(noop);
      }
    } finally {
      clearInterval(renew);
      stop.signal.removeEventListener('abort', onStop);
      leader = false;
    }
  }

  const loop = (async () => {
    while (!stop.signal.aborted) {
      let held = false;
      try {
        held = await lease.acquire();
      } catch (err) {
        options.onError?.(err);
      }
      if (stop.signal.aborted) break;
      if (!held) {
        resolveReady();
        await delay(standbyMs, stop.signal).catch(noop);
        continue;
      }
      everHeld = true;
      await session();
    }
    resolveReady();
  })();

  return {
    get leader() {
      return leader;
    },
    ready,
    async stop() {
      stop.abort();
      await loop;
      if (everHeld) await lease.release().catch(noop);
    },
  };
}

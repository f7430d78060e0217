import type { Redis } from 'ioredis';
import type { StreamEntry } from './stream-reader.ts';

/**
 * Many followers of many streams on one blocking connection: one `XREAD BLOCK` over every
 * followed stream (from the earliest position any follower of it needs), its entries
 * fanned out to each follower after its own position. A hundred `?follow=true` log
 * streams hold one Redis connection, not a hundred.
 *
 * A follower that joins while the read is blocked is added by interrupting it (`CLIENT
 * UNBLOCK` on the command connection); where that is not allowed (ACLs) or races with the
 * read being sent, the newcomer is read from the next round, within `blockMs`. A follower
 * that does not keep up is read no further once `maxBuffered` entries wait for it, until
 * it catches up (the others are not held back).
 */
export interface StreamFanout {
  /**
   * The entries of `key` after the exclusive id `from`, in order, batch by batch; an empty
   * batch whenever `idleMs` passes without entries (so callers can re-check state). Ends
   * quietly when `signal` aborts; throws when Redis fails the shared read.
   */
  follow(key: string, from: string, options: { signal: AbortSignal; idleMs: number }): AsyncGenerator<StreamEntry[]>;
}

export interface StreamFanoutOptions {
  /** Makes the one blocking connection (on first use, again after a failure). */
  connect: () => Redis;
  /** The command connection, for `CLIENT UNBLOCK` of the shared read. */
  command: Redis;
  /** Entries per stream per read at most. */
  count: number;
  /** How long one shared read blocks (ms). */
  blockMs: number;
  /** Entries waiting for one follower before its stream is left out of reads. Default 10 000. */
  maxBuffered?: number;
}

interface Follower {
  key: string;
  /** The last id read for this follower: its next read starts after it. */
  from: string;
  buffer: StreamEntry[];
  error?: unknown;
  notify?: () => void;
}

/** Stream ids are `<ms>-<seq>`; both parts compare as numbers. */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am - bm : (as ?? 0) - (bs ?? 0);
}

export function createStreamFanout(o: StreamFanoutOptions): StreamFanout {
  const maxBuffered = o.maxBuffered ?? 10_000;
  const byKey = new Map<string, Set<Follower>>();
  let conn: Redis | undefined;
  let clientId: number | undefined;
  let running = false;
  let blocked = false;
  let idle: (() => void) | undefined;

  const full = (f: Follower) => f.buffer.length >= maxBuffered;

  /** Makes the loop look at the followers again: wakes it when idle, interrupts its blocked read. */
  function rescan(): void {
    idle?.();
    if (blocked && clientId !== undefined) o.command.client('UNBLOCK', clientId).catch(() => undefined);
  }

  /** Each stream with a follower ready for more, and the earliest position one of them needs. */
  function readable(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [key, set] of byKey)
      for (const f of set) {
        if (full(f)) continue;
        const cur = out.get(key);
        if (cur === undefined || compareIds(f.from, cur) < 0) out.set(key, f.from);
      }
    return out;
  }

  function deliver(key: string, entries: StreamEntry[]): void {
    for (const f of byKey.get(key) ?? []) {
      if (full(f)) continue;
      const fresh = entries.filter(([id]) => compareIds(id, f.from) > 0);
      if (fresh.length === 0) continue;
      f.buffer.push(...fresh);
      f.from = fresh[fresh.length - 1][0];
      f.notify?.();
    }
  }

  function failAll(err: unknown): void {
    for (const set of byKey.values())
      for (const f of set) {
        f.error = err;
        f.notify?.();
      }
  }

  function connection(): Redis {
    if (conn) return conn;
    const c = o.connect();
    c.on('error', () => {});
    // A reconnected client has a new id.
    c.on('ready', () => (clientId = undefined));
    conn = c;
    return c;
  }

  async function loop(): Promise<void> {
    running = true;
    try {
      while (byKey.size > 0) {
        const streams = readable();
        if (streams.size === 0) {
          await new Promise<void>((resolve) => (idle = resolve));
          idle = undefined;
          continue;
        }
        const c = connection();
        let res: Array<[string, StreamEntry[]]> | null;
        try {
          clientId ??= Number(await c.client('ID'));
          blocked = true;
          res = (await c.xread('COUNT', o.count, 'BLOCK', o.blockMs, 'STREAMS', ...streams.keys(), ...streams.values())) as typeof res;
        } catch (err) {
          // The followers end with the error; the next follower starts on a fresh connection.
          failAll(err);
          if (conn === c) conn = undefined;
          clientId = undefined;
          c.disconnect();
          return;
        } finally {
          blocked = false;
        }
        for (const [key, entries] of res ?? []) deliver(key, entries);
      }
    } finally {
      running = false;
    }
  }

  function add(f: Follower): void {
    let set = byKey.get(f.key);
    if (!set) byKey.set(f.key, (set = new Set()));
    set.add(f);
    if (running) rescan();
    else void loop();
  }

  function remove(f: Follower): void {
    const set = byKey.get(f.key);
    set?.delete(f);
    if (set?.size === 0) byKey.delete(f.key);
  }

  /** Resolves when the follower has news, the signal aborts, or `ms` pass (then false). */
  function news(f: Follower, signal: AbortSignal, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        f.notify = undefined;
        resolve(value);
      };
      const onAbort = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      signal.addEventListener('abort', onAbort, { once: true });
      f.notify = () => done(true);
    });
  }

  return {
    async *follow(key, from, { signal, idleMs }) {
      if (signal.aborted) return;
      const f: Follower = { key, from, buffer: [] };
      add(f);
      try {
        while (!signal.aborted) {
          if (f.error !== undefined) throw f.error;
          if (f.buffer.length > 0) {
            const wasFull = full(f);
            const batch = f.buffer.splice(0);
            // Left out of the pending read while full: it is ready for more now.
            if (wasFull) rescan();
            yield batch;
            continue;
          }
          if (!(await news(f, signal, idleMs)) && !signal.aborted) yield [];
        }
      } finally {
        remove(f);
      }
    },
  };
}

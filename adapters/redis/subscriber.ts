import type { Redis } from 'ioredis';

/**
 * The one pub/sub subscriber helper: one connection (made on first use) serves every
 * channel and listener of its owner. ioredis re-subscribes by itself after a reconnect,
 * so listeners survive a Redis outage (messages published meanwhile are lost: signals
 * are hints, and their consumers also poll).
 */
export interface Subscriber {
  /** Resolves once Redis confirmed the subscription; returns the unsubscribe. */
  listen(channel: string, listener: (message: string) => void): Promise<() => void>;
  close(): void;
}

export function createSubscriber(connect: () => Redis, onError?: (err: Error) => void): Subscriber {
  let conn: Redis | undefined;
  const listeners = new Map<string, Set<(message: string) => void>>();

  function connection(): Redis {
    if (!conn) {
      conn = connect();
      conn.on('error', (err: Error) => onError?.(err));
      conn.on('message', (channel: string, message: string) => {
        for (const l of listeners.get(channel) ?? []) {
          try {
            l(message);
          } catch (err) {
            onError?.(err as Error);
          }
        }
      });
    }
    return conn;
  }

  return {
    async listen(channel, listener) {
      const c = connection();
      let set = listeners.get(channel);
      const first = !set;
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
      if (first) await c.subscribe(channel);
      return () => {
        const s = listeners.get(channel);
        if (!s?.delete(listener) || s.size > 0) return;
        listeners.delete(channel);
        if (conn === c) void c.unsubscribe(channel).catch(() => undefined);
      };
    },
    close() {
      listeners.clear();
      conn?.disconnect();
      conn = undefined;
    },
  };
}

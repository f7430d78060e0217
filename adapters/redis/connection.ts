import { Redis } from 'ioredis';
import type { Logger } from '../../engine/shared/logger.ts';

/**
 * The Redis connections of one process. The command connection fails a command after a
 * few reconnect attempts (well under a second) while Redis is down, so callers get
 * `REDIS.UNAVAILABLE` instead of waiting forever. Blocking reads, subscribers and BullMQ
 * workers hold a connection each and must wait through outages (`maxRetriesPerRequest:
 * null`, which BullMQ requires).
 */
export interface RedisConnections {
  readonly url: string;
  /** Shared by every store of the process. */
  readonly command: Redis;
  /** A new connection for one blocking reader, subscriber or worker; the caller disconnects it. */
  blocking(): Redis;
  /** Disconnects the command connection and every blocking connection still open. */
  close(): Promise<void>;
}

export function createRedisConnections(url: string, logger?: Logger): RedisConnections {
  const command = new Redis(url, { maxRetriesPerRequest: 3, enableReadyCheck: true });
  let down = false;
  command.on('error', (err) => {
    // One line per outage, not one per reconnect attempt.
    if (!down) logger?.warn({ err: err.message }, 'redis connection error');
    down = true;
  });
  command.on('ready', () => {
    down = false;
  });
  const open = new Set<Redis>();
  return {
    url,
    command,
    blocking() {
      const c = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
      c.on('error', () => {});
      open.add(c);
      c.once('end', () => open.delete(c));
      return c;
    },
    async close() {
      for (const c of open) c.disconnect();
      open.clear();
      command.disconnect();
    },
  };
}

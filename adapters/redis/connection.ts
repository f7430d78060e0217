import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../../engine/shared/logger.ts';

/**
 * The Redis connections of one process. The command connection fails fast while Redis is
 * down, so callers get `REDIS.UNAVAILABLE` at once instead of waiting (README: the API
 * answers 503 within a second):
 * - once it has been ready, a command issued while disconnected is refused at once, not
 *   queued (ioredis' offline queue would hold it through up to `maxRetriesPerRequest`
 *   reconnects — 6.4 s measured — and then send it when Redis returns, applying a write the
 *   client had already been told failed);
 * - a command in flight when the connection drops is failed after the first reconnect
 *   attempt and never resent (`autoResendUnfulfilledCommands: false`): its caller got an
 *   error, so it must not be applied behind its back.
 * Before the first ready the queue stays on, so start-up does not race the connect.
 * Blocking reads, subscribers and BullMQ workers hold a connection each and must wait
 * through outages (`maxRetriesPerRequest: null`, which BullMQ requires).
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
  const command = new Redis(url, { maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false, enableReadyCheck: true });
  // ioredis reads this option on every command, so turning it off after the first ready
  // keeps start-up queued and every later outage fast.
  command.once('ready', () => {
    command.options.enableOfflineQueue = false;
  });
  // Subscribers and stream readers duplicate this connection; they wait through outages, so
  // they get the queueing options back rather than inheriting the fail-fast ones.
  const duplicate = command.duplicate.bind(command);
  command.duplicate = ((override?: RedisOptions) =>
    duplicate({ maxRetriesPerRequest: 3, enableOfflineQueue: true, autoResendUnfulfilledCommands: true, ...override })) as typeof command.duplicate;
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

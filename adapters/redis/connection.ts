import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from '../../engine/shared/logger.ts';
import { connectRedis, describeRedisTarget, singleRedis, type RedisTarget } from './target.ts';

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
  /** How logs name the target (no password). */
  readonly url: string;
  readonly target: RedisTarget;
  /** Shared by every store of the process. */
  readonly command: Redis;
  /** A new connection for one blocking reader, subscriber or worker; the caller disconnects it. */
  blocking(): Redis;
  /** Disconnects the command connection and every blocking connection still open. */
  close(): Promise<void>;
}

/** Subscribers, stream readers and BullMQ's own duplicates wait through outages. */
const QUEUEING: RedisOptions = { maxRetriesPerRequest: 3, enableOfflineQueue: true, autoResendUnfulfilledCommands: true };

export function createRedisConnections(to: RedisTarget | string, logger?: Logger): RedisConnections {
  const target = typeof to === 'string' ? singleRedis(to) : to;
  const command = connectRedis(target, { maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false, enableReadyCheck: true });
  // ioredis reads this option on every command (a Cluster its own, not its nodes'), so
  // turning it off after the first ready keeps start-up queued and every later outage fast.
  command.once('ready', () => {
    command.options.enableOfflineQueue = false;
  });
  // Subscribers, stream readers and BullMQ workers duplicate this connection; they get the
  // queueing options back rather than inheriting the fail-fast ones. A Cluster's duplicate
  // takes (startupNodes, options), so both kinds are rebuilt from the target instead.
  command.duplicate = ((override?: RedisOptions) =>
    connectRedis(target, { ...QUEUEING, ...(isPlainOptions(override) ? override : {}) })) as typeof command.duplicate;
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
    url: describeRedisTarget(target),
    target,
    command,
    blocking() {
      const c = connectRedis(target, { maxRetriesPerRequest: null, enableReadyCheck: true });
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

function isPlainOptions(v: unknown): v is RedisOptions {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

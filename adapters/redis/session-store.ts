import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Session, SessionStore } from '../../engine/ports/session-store.ts';
import { guarded } from './errors.ts';
import type { RedisKeys } from './keys.ts';

/**
 * Sessions as `<p>:session:<sha256 of the id>` strings that Redis expires itself. The key holds
 * a hash of the id, so someone who can read Redis (a backup, a replica) learns no cookie that
 * would log them in.
 */
export function createRedisSessionStore(options: { redis: Redis; keys: RedisKeys }): SessionStore {
  const { redis, keys } = options;
  const key = (id: string) => keys.session(createHash('sha256').update(id).digest('hex'));
  return guarded('sessions', {
    async create(id: string, session: Session) {
      const ttlMs = Math.max(1, Date.parse(session.expiresAt) - Date.now());
      await redis.set(key(id), JSON.stringify(session), 'PX', ttlMs);
    },
    async get(id: string) {
      const raw = await redis.get(key(id));
      return raw ? (JSON.parse(raw) as Session) : undefined;
    },
    async delete(id: string) {
      await redis.del(key(id));
    },
  });
}

import type { Redis } from 'ioredis';
import type { SealedValue, SecretMeta, SecretStore, StoredSecret } from '../../engine/ports/secret-store.ts';
import { metadataOf, type Metadata } from '../../engine/domain/metadata.ts';
import { guarded } from './errors.ts';
import type { RedisKeys } from './keys.ts';

/**
 * Next version of a secret in one step, so two puts never both become version n. ARGV: name,
 * sealed JSON, now, labels and annotations JSON (kept as a string: cjson would turn `{}` into `[]` on the way back).
 */
const PUT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local version, created = 1, ARGV[3]
if cur then
  local d = cjson.decode(cur)
  version = d.version + 1
  created = d.createdAt
end
local rec = cjson.encode({ name = ARGV[1], version = version, createdAt = created, updatedAt = ARGV[3], sealed = cjson.decode(ARGV[2]), metadata = ARGV[4] })
redis.call('HSET', KEYS[1], ARGV[1], rec)
return rec
`;

/** Replaces the sealed value only if the version is still the one that was read. ARGV: name, version, sealed JSON. */
const RESEAL = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
local d = cjson.decode(cur)
if tostring(d.version) ~= ARGV[2] then return 0 end
d.sealed = cjson.decode(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(d))
return 1
`;

/** The record as Redis holds it: labels and annotations as one JSON string (absent before they existed). */
type RedisRecord = Omit<StoredSecret, 'labels' | 'annotations'> & { metadata?: string };

const stored = (json: string): StoredSecret => {
  const { metadata, ...r } = JSON.parse(json) as RedisRecord;
  return { ...r, ...metadataOf(metadata ? (JSON.parse(metadata) as Partial<Metadata>) : {}) };
};
const meta = (s: StoredSecret): SecretMeta => ({
  name: s.name,
  version: s.version,
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
  labels: s.labels,
  annotations: s.annotations,
});

/** Secrets in one Redis hash (`<p>:secrets`), field = name, value = JSON with the sealed value. */
export function createRedisSecretStore(options: { redis: Redis; keys: RedisKeys }): SecretStore {
  const { redis, keys } = options;
  return guarded('secret store', {
    async put(name: string, sealed: SealedValue, now: string, metadata?: Metadata) {
      const m = JSON.stringify(metadataOf(metadata ?? {}));
      return meta(stored(String(await redis.eval(PUT, 1, keys.secrets, name, JSON.stringify(sealed), now, m))));
    },
    async reseal(name: string, version: number, sealed: SealedValue) {
      return Number(await redis.eval(RESEAL, 1, keys.secrets, name, String(version), JSON.stringify(sealed))) === 1;
    },
    async get(name: string) {
      const json = await redis.hget(keys.secrets, name);
      return json === null ? undefined : stored(json);
    },
    async list() {
      const all = await redis.hgetall(keys.secrets);
      return Object.values(all)
        .map(stored)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async delete(name: string) {
      return (await redis.hdel(keys.secrets, name)) === 1;
    },
  });
}

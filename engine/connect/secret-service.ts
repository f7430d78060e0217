import type { SecretMeta, SecretStore } from '../ports/secret-store.ts';
import { VeerError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { keyIdOf, open, seal } from './secret-box.ts';

/** Largest secret value (UTF-8 bytes): a token or a key, not a file. */
export const MAX_SECRET_BYTES = 64 * 1024;

export interface SecretService {
  /** Seals and stores a new version. SECRETS.NO_KEY without VEER_SECRETS_KEY. */
  put(name: string, value: string): Promise<SecretMeta>;
  get(name: string): Promise<SecretMeta | undefined>;
  list(): Promise<SecretMeta[]>;
  delete(name: string): Promise<boolean>;
  /** The value, for ctx.secrets only; undefined when there is no such secret. */
  reveal(name: string): Promise<string | undefined>;
  /** Re-seals with VEER_SECRETS_KEY every secret sealed with VEER_SECRETS_KEY_PREVIOUS; how many were. */
  rotate(): Promise<number>;
}

const noKey = (what: string) =>
  new VeerError(
    'SECRETS.NO_KEY',
    `secrets cannot be ${what}: VEER_SECRETS_KEY is not set. Set it to 32 random bytes, e.g. VEER_SECRETS_KEY=$(openssl rand -hex 32), on the API and the engine (the same key on both), and restart`,
  );

const metaOf = ({ name, version, createdAt, updatedAt }: SecretMeta): SecretMeta => ({ name, version, createdAt, updatedAt });

/**
 * Secrets sealed with AES-256-GCM under VEER_SECRETS_KEY before they reach the store. The
 * API only ever writes values and reads metadata; values are opened for ctx.secrets alone.
 * Rotation: start with the new key in VEER_SECRETS_KEY and the old one in
 * VEER_SECRETS_KEY_PREVIOUS; each process re-seals what the old key sealed at start-up, and
 * values sealed by either key open meanwhile.
 */
export function createSecretService(o: { store: SecretStore; key?: Buffer; previousKey?: Buffer; logger: Logger }): SecretService {
  const keys = [o.key, o.previousKey].filter((k): k is Buffer => k !== undefined);
  return {
    async put(name, value) {
      if (!o.key) throw noKey('stored');
      return o.store.put(name, seal(name, value, o.key), new Date().toISOString());
    },
    async get(name) {
      const s = await o.store.get(name);
      return s && metaOf(s);
    },
    list: async () => (await o.store.list()).map(metaOf),
    delete: (name) => o.store.delete(name),
    async reveal(name) {
      if (!o.key) throw noKey('read');
      const s = await o.store.get(name);
      return s && open(name, s.sealed, keys);
    },
    async rotate() {
      if (!o.key || !o.previousKey) return 0;
      const previous = keyIdOf(o.previousKey);
      let n = 0;
      for (const s of await o.store.list()) {
        if (s.sealed.keyId !== previous) continue;
        const value = open(s.name, s.sealed, keys);
        // A put since the list wins: it was sealed with the new key already.
        if (await o.store.reseal(s.name, s.version, seal(s.name, value, o.key))) n++;
      }
      if (n)
        o.logger.info(
          { resealed: n },
          'secrets re-sealed with VEER_SECRETS_KEY (VEER_SECRETS_KEY_PREVIOUS can be removed once every process runs with the new key)',
        );
      return n;
    },
  };
}

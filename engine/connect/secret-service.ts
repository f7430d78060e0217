import { jsonEqual, sameSecret, type DryRunOutcome } from '../domain/dry-run-put.ts';
import { metadataOf, type Metadata } from '../domain/metadata.ts';
import type { SecretMeta, SecretStore } from '../ports/secret-store.ts';
import { VeerError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { keyIdOf, open, seal } from './secret-box.ts';

/** Largest secret value (UTF-8 bytes): a token or a key, not a file. */
export const MAX_SECRET_BYTES = 64 * 1024;

/** A secret as a put would leave it: `createdAt` absent when it would be created, `updatedAt` absent unless unchanged. */
export type PlannedSecret = Omit<SecretMeta, 'createdAt' | 'updatedAt'> & Partial<Pick<SecretMeta, 'createdAt' | 'updatedAt'>>;

export interface SecretService {
  /** Seals and stores a new version. SECRETS.NO_KEY without VEER_SECRETS_KEY. */
  put(name: string, value: string, metadata?: Metadata): Promise<SecretMeta>;
  /**
   * What `put` would do, writing nothing (SECRETS.NO_KEY likewise): `unchanged` when the stored
   * value (compared in constant time) and labels and annotations are the same. The metadata is
   * the stored one when unchanged, else the next version's.
   */
  plan(name: string, value: string, metadata?: Metadata): Promise<{ outcome: DryRunOutcome; meta: PlannedSecret }>;
  get(name: string): Promise<SecretMeta | undefined>;
  list(): Promise<SecretMeta[]>;
  delete(name: string): Promise<boolean>;
  /** The value, for ctx.secrets only; undefined when there is no such secret. */
  reveal(name: string): Promise<string | undefined>;
  /** Whether VEER_SECRETS_KEY is set, i.e. whether `put` can store anything. */
  canSeal(): boolean;
  /** Re-seals with VEER_SECRETS_KEY every secret sealed with VEER_SECRETS_KEY_PREVIOUS; how many were. */
  rotate(): Promise<number>;
}

/** How to set the key: in SECRETS.NO_KEY errors and the secrets list. */
export const NO_KEY_HINT =
  'VEER_SECRETS_KEY is not set. Set it to 32 random bytes, e.g. VEER_SECRETS_KEY=$(openssl rand -hex 32), on the API and the engine (the same key on both), and restart';

const noKey = (what: string) => new VeerError('SECRETS.NO_KEY', `secrets cannot be ${what}: ${NO_KEY_HINT}`);

const metaOf = ({ name, version, createdAt, updatedAt, labels, annotations }: SecretMeta): SecretMeta => ({
  name,
  version,
  createdAt,
  updatedAt,
  labels,
  annotations,
});

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
    async put(name, value, metadata) {
      if (!o.key) throw noKey('stored');
      return o.store.put(name, seal(name, value, o.key), new Date().toISOString(), metadataOf(metadata ?? {}));
    },
    async plan(name, value, metadata) {
      if (!o.key) throw noKey('stored');
      const next = metadataOf(metadata ?? {});
      const s = await o.store.get(name);
      if (!s) return { outcome: 'created', meta: { name, version: 1, ...next } };
      let stored: string | undefined;
      try {
        stored = open(name, s.sealed, keys);
      } catch {
        // Sealed by a key this process no longer has: a PUT would replace it.
      }
      const sameValue = sameSecret(stored, value);
      const sameMeta = jsonEqual({ labels: s.labels, annotations: s.annotations }, next);
      if (sameValue && sameMeta) return { outcome: 'unchanged', meta: metaOf(s) };
      return { outcome: 'updated', meta: { name, version: s.version + 1, createdAt: s.createdAt, ...next } };
    },
    canSeal: () => o.key !== undefined,
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

import type { Metadata } from '../domain/metadata.ts';

/**
 * SecretStore: secrets as stored — sealed (AES-256-GCM by engine/connect/secret-box.ts)
 * before they reach the store, so the store never holds a value in the clear. Names are
 * workflow-name-like. `version` counts puts of one name from 1.
 *
 * Errors: `<STORE>.UNAVAILABLE` (retryable) when the backing store cannot be reached.
 */
export interface SealedValue {
  /** Which key sealed it: the first 8 hex digits of SHA-256(key), so rotation can find what the old key sealed. */
  keyId: string;
  /** base64 each. */
  iv: string;
  tag: string;
  data: string;
}

export interface SecretMeta {
  name: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** No meaning to Veer; `{}` for secrets stored before they existed. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface StoredSecret extends SecretMeta {
  sealed: SealedValue;
}

export interface SecretStore {
  /** Stores a new version of `name` (version 1 when new), with its labels and annotations. */
  put(name: string, sealed: SealedValue, now: string, metadata?: Metadata): Promise<SecretMeta>;
  /** Replaces the sealed value of the current version in place (key rotation); false when `name` is gone. */
  reseal(name: string, version: number, sealed: SealedValue): Promise<boolean>;
  get(name: string): Promise<StoredSecret | undefined>;
  /** Every secret, sorted by name, without values. */
  list(): Promise<StoredSecret[]>;
  /** Whether it existed. */
  delete(name: string): Promise<boolean>;
}

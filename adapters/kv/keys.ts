import { kvInvalid } from './errors.ts';

/**
 * Key rules shared by every store, so a key valid on Redis is valid on ZooKeeper too:
 * '/'-separated segments, no empty, '.' or '..' segment, no leading or trailing '/',
 * and a conservative character set that needs no escaping in URLs, znode paths or Lua.
 */
const SEGMENT = /^[A-Za-z0-9_.~:@=+,%-]+$/;

export function checkKey(kind: string, key: string): string {
  if (typeof key !== 'string' || key === '') throw kvInvalid(kind, 'a key must be a non-empty string', { key });
  checkSegments(kind, key, 'key');
  return key;
}

/** A watch/list prefix: '' (everything) or a key. */
export function checkPrefix(kind: string, prefix: string): string {
  if (typeof prefix !== 'string') throw kvInvalid(kind, 'a prefix must be a string', { prefix });
  if (prefix === '') return '';
  checkSegments(kind, prefix, 'prefix');
  return prefix;
}

function checkSegments(kind: string, value: string, what: string): void {
  if (value.length > 512) throw kvInvalid(kind, `${what} is longer than 512 characters`, { [what]: value });
  for (const seg of value.split('/')) {
    if (seg === '' || seg === '.' || seg === '..' || !SEGMENT.test(seg)) {
      throw kvInvalid(
        kind,
        `invalid ${what} '${value}': use '/'-separated segments of letters, digits and _ . ~ : @ = + , % - (no empty, '.' or '..' segments, no leading or trailing '/')`,
        { [what]: value },
      );
    }
  }
}

/**
 * Prefixes match whole segments: 'gateways' covers 'gateways' and 'gateways/shop', never
 * 'gateways2/x'. '' covers everything.
 */
export function underPrefix(key: string, prefix: string): boolean {
  return prefix === '' || key === prefix || key.startsWith(`${prefix}/`);
}

/** The store-level root ('veer', '/veer' or 'veer/' all mean the segments ['veer']). */
export function normalizeRoot(kind: string, root: string): string {
  const trimmed = root.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') throw kvInvalid(kind, 'the store prefix (VEER_KV_PREFIX) must not be empty');
  checkSegments(kind, trimmed, 'store prefix (VEER_KV_PREFIX)');
  return trimmed;
}

export function checkRevision(kind: string, revision: string | undefined, what = 'ifRevision'): string | undefined {
  if (revision === undefined) return undefined;
  if (typeof revision !== 'string' || !/^\d+$/.test(revision)) throw kvInvalid(kind, `${what} must be a decimal string, got ${JSON.stringify(revision)}`);
  return revision;
}

export function checkTtl(kind: string, ttlSeconds: number | undefined, supported: boolean, why?: string): number | undefined {
  if (ttlSeconds === undefined) return undefined;
  if (!supported) throw kvInvalid(kind, `ttlSeconds is not supported (capabilities.ttl is false): ${why ?? ''}`);
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0)
    throw kvInvalid(kind, `ttlSeconds must be a positive number, got ${ttlSeconds}`);
  return ttlSeconds;
}

export function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

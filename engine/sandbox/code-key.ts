import { createHash } from 'node:crypto';

/** Entries a child's code cache keeps (the host remembers as many keys per child). */
export const CODE_CACHE_ENTRIES = 64;
/** Bytes (code as UTF-16 plus V8 cachedData) a child's code cache keeps; past it, misses cost a resend. */
export const CODE_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * The key a sandbox child caches a script's compiled code under: workflow name and version for
 * the reader, then the SHA-256 of the code itself. The child recomputes the hash of every code it
 * is sent and stores it only under a key ending in that hash, so a key can never select code
 * other than the code it was made from — a wrong name or version costs a miss, never a wrong run.
 */
export function codeKey(workflow: { name: string; version: number }, code: string): string {
  return `${workflow.name}@${workflow.version}#${codeHash(code)}`;
}

export function codeHash(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

/** Whether `key` names exactly this code (its hash part is the code's hash). */
export function keyMatches(key: string, code: string): boolean {
  const at = key.lastIndexOf('#');
  return at >= 0 && key.slice(at + 1) === codeHash(code);
}

/**
 * The host's memo of code → key, per workflow version: hashing a 512 KiB script costs ~1 ms, and
 * the same version's code is sent again and again. The memo holds the last code per version; a
 * different code under the same version is simply hashed (and remembered) anew.
 */
export function createCodeKeys(maxEntries = 256): (workflow: { name: string; version: number }, code: string) => string {
  const memo = new Map<string, { code: string; key: string }>();
  return (workflow, code) => {
    const id = `${workflow.name}@${workflow.version}`;
    const hit = memo.get(id);
    if (hit && hit.code === code) {
      memo.delete(id);
      memo.set(id, hit);
      return hit.key;
    }
    const key = codeKey(workflow, code);
    memo.delete(id);
    memo.set(id, { code, key });
    if (memo.size > maxEntries) memo.delete(memo.keys().next().value!);
    return key;
  };
}

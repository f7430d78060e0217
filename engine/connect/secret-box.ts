import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SealedValue } from '../ports/secret-store.ts';
import { VeerError } from '../shared/errors.ts';

/**
 * AES-256-GCM sealing of secret values. Each value gets a fresh 96-bit IV (NIST SP 800-38D's
 * recommended size) and its 128-bit tag; the secret's name is the additional authenticated
 * data, so a sealed value copied onto another name does not open.
 */
export const keyIdOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 8);

export function seal(name: string, value: string, key: Buffer): SealedValue {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { keyId: keyIdOf(key), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/** Opens with whichever of `keys` sealed it; SECRETS.UNREADABLE when none did or the value was tampered with. */
export function open(name: string, sealed: SealedValue, keys: readonly Buffer[]): string {
  const key = keys.find((k) => keyIdOf(k) === sealed.keyId);
  if (!key) {
    throw new VeerError(
      'SECRETS.UNREADABLE',
      `secret '${name}' was sealed with key ${sealed.keyId}, which is neither VEER_SECRETS_KEY nor VEER_SECRETS_KEY_PREVIOUS; set the key it was stored with, or store the secret again`,
      { details: { secret: name, keyId: sealed.keyId } },
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new VeerError('SECRETS.UNREADABLE', `secret '${name}' does not decrypt: it was altered in the store; store it again`, {
      details: { secret: name, keyId: sealed.keyId },
    });
  }
}

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

// Secrets Hook must use again, sealed before they are stored: a copy of the database (a backup, a
// replica, a leaked dump) then holds no secret it could use. The key lives only in the processes'
// configuration (DATA_ENCRYPTION_KEY).

/** What a sealed value begins with; a stored value without it is from before sealing. */
export const SEALED_PREFIX = 'sealed:v1:';

export interface SecretBox {
  /** AES-256-GCM under the configured key; `context` (the row's org) is bound in, so a sealed value moved to another org's row does not open. */
  seal(plain: string, context: string): string;
  /** The secret; throws when the key or the context is not the one it was sealed with. */
  open(stored: string, context: string): string;
}

export const isSealed = (stored: string) => stored.startsWith(SEALED_PREFIX);

/** A box whose key is derived (HKDF-SHA256) from the configured key text, for one purpose. */
export function secretBox(keyText: string, purpose: string): SecretBox {
  const key = Buffer.from(hkdfSync('sha256', keyText, 'hook-data-encryption', purpose, 32));
  return {
    seal(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context));
      const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${SEALED_PREFIX}${iv.toString('base64url')}:${sealed.toString('base64url')}`;
    },
    open(stored, context) {
      if (!isSealed(stored)) throw new Error('this secret was stored before secrets were sealed: seal it first');
      const [iv, sealed] = stored.slice(SEALED_PREFIX.length).split(':').map((part) => Buffer.from(part, 'base64url')) as [Buffer, Buffer];
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context));
        decipher.setAuthTag(sealed.subarray(sealed.length - 16));
        return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString('utf8');
      } catch {
        throw new Error('a stored secret does not open with DATA_ENCRYPTION_KEY: the key changed, or the value was moved to another row');
      }
    },
  };
}

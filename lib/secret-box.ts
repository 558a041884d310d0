import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

// Secrets Hook must use again, sealed before they are stored: a copy of the database (a backup, a
// replica, a leaked dump) then holds no secret it could use. The key lives only in the processes'
// configuration (DATA_ENCRYPTION_KEY).

/** What a sealed value begins with; a stored value without it is from before sealing. */
export const SEALED_PREFIX = 'sealed:v1:';

export interface SecretBox {
  /** AES-256-GCM under the configured key; `context` (the row's org) is bound in, so a sealed value moved to another org's row does not open. */
  seal(plain: string, context: string): string;
  /** The secret; throws when neither key opens it for this context. */
  open(stored: string, context: string): string;
  /** Whether a stored value is not sealed under the current key yet: in clear, or under the previous key. */
  needsSealing(stored: string, context: string): boolean;
}

export const isSealed = (stored: string) => stored.startsWith(SEALED_PREFIX);

const keyFor = (keyText: string, purpose: string) => Buffer.from(hkdfSync('sha256', keyText, 'hook-data-encryption', purpose, 32));

/** The secret sealed in `stored` under this key, or undefined when it does not open. */
function openWith(key: Buffer, stored: string, context: string): string | undefined {
  const [iv, sealed] = stored.slice(SEALED_PREFIX.length).split(':').map((part) => Buffer.from(part, 'base64url')) as [Buffer, Buffer];
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * A box whose key is derived (HKDF-SHA256) from the configured key text, for one purpose. While a
 * key is rotated, the previous one (DATA_ENCRYPTION_KEY_PREVIOUS) still opens what it sealed.
 */
export function secretBox(keyText: string, purpose: string, previousKeyText?: string): SecretBox {
  const key = keyFor(keyText, purpose);
  const previous = previousKeyText === undefined ? undefined : keyFor(previousKeyText, purpose);
  return {
    seal(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context));
      const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${SEALED_PREFIX}${iv.toString('base64url')}:${sealed.toString('base64url')}`;
    },
    open(stored, context) {
      if (!isSealed(stored)) throw new Error('this secret was stored before secrets were sealed: seal it first');
      const secret = openWith(key, stored, context) ?? (previous && openWith(previous, stored, context));
      if (secret === undefined) throw new Error('a stored secret does not open with DATA_ENCRYPTION_KEY: the key changed, or the value was moved to another row');
      return secret;
    },
    needsSealing(stored, context) {
      return !isSealed(stored) || (openWith(key, stored, context) === undefined && previous !== undefined && openWith(previous, stored, context) !== undefined);
    },
  };
}

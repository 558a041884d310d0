import { describe, expect, it } from 'vitest';
import { isSealed, secretBox } from '../../lib/secret-box.js';

describe('secrets sealed at rest', () => {
  const box = secretBox('a-data-encryption-key-of-32-characters-or-more', 'webhook signing secrets');
  const secret = 'whsec_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

  it('opens what it sealed, for the same context only; the sealed text holds nothing of the secret', () => {
    const sealed = box.seal(secret, 'org-a');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain(secret.slice(6, 20));
    expect(box.open(sealed, 'org-a')).toBe(secret);
    expect(() => box.open(sealed, 'org-b')).toThrow('a stored secret does not open with DATA_ENCRYPTION_KEY: the key changed, or the value was moved to another row');
    expect(box.seal(secret, 'org-a')).not.toBe(sealed); // a fresh nonce each time
  });

  it('while the key is rotated, the previous key still opens what it sealed, and says what needs sealing again', () => {
    const old = box.seal(secret, 'org-a');
    const rotated = secretBox('the-new-data-encryption-key-of-32-characters', 'webhook signing secrets', 'a-data-encryption-key-of-32-characters-or-more');
    expect(rotated.open(old, 'org-a')).toBe(secret);
    expect(rotated.needsSealing(old, 'org-a')).toBe(true);
    expect(rotated.needsSealing(secret, 'org-a')).toBe(true); // in clear
    const fresh = rotated.seal(secret, 'org-a');
    expect(rotated.needsSealing(fresh, 'org-a')).toBe(false);
    expect(secretBox('the-new-data-encryption-key-of-32-characters', 'webhook signing secrets').open(fresh, 'org-a')).toBe(secret);
    expect(() => box.open(fresh, 'org-a')).toThrow(/does not open/); // the old key does not open the new seal
    expect(() => rotated.open(old, 'org-b')).toThrow(/does not open/); // nor does the previous key open it for another org
    expect(rotated.needsSealing(old, 'org-b')).toBe(false); // what opens with neither is left alone
  });

  it('another key, another purpose, or a changed byte does not open it', () => {
    const sealed = box.seal(secret, 'org-a');
    expect(() => secretBox('another-data-encryption-key-of-32-characters', 'webhook signing secrets').open(sealed, 'org-a')).toThrow(/does not open/);
    expect(() => secretBox('a-data-encryption-key-of-32-characters-or-more', 'something else').open(sealed, 'org-a')).toThrow(/does not open/);
    const last = sealed.at(-2) === 'A' ? 'B' : 'A';
    expect(() => box.open(`${sealed.slice(0, -2)}${last}${sealed.at(-1)!}`, 'org-a')).toThrow(/does not open/);
    expect(() => box.open(secret, 'org-a')).toThrow('this secret was stored before secrets were sealed: seal it first');
  });
});

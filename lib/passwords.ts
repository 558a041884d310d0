import { hash, verify } from '@node-rs/argon2';

// Argon2id with OWASP's suggested floor (19 MiB, 2 passes): memory-hard, so guessing is costly.
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password).catch(() => false);
}

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * On embedded defaults a secret (the session secret, the data encryption key) is made once and
 * kept in the data folder, so sign-ins and sealed webhook secrets survive restarts.
 */
export async function loadOrCreateKeptSecret(dataDir: string, name: 'session-secret' | 'data-encryption-key'): Promise<string> {
  const file = path.join(dataDir, name);
  try {
    const existing = (await fs.readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch {
    // first run
  }
  const secret = randomBytes(32).toString('base64url');
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

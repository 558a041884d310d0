import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/paths.js';

const dir = path.join(projectRoot, 'db', 'migrations');

/**
 * Migrations are frozen once written: a database that applied one never applies it again, so an
 * edit would leave older databases behind without anyone noticing (0004 and 0006 once were). Each
 * file's hash must match the committed list; a new migration adds its line to the list, a
 * deliberate, visible step.
 */
describe('migrations', () => {
  it('are unchanged since they were written (db/migrations/checksums.json)', async () => {
    const files = (await readdir(dir)).filter((name) => name.endsWith('.ts')).sort();
    const hashes = Object.fromEntries(await Promise.all(files.map(async (name) => [name, createHash('sha256').update(await readFile(path.join(dir, name))).digest('hex')] as const)));
    const frozen = JSON.parse(await readFile(path.join(dir, 'checksums.json'), 'utf8')) as Record<string, string>;
    expect(hashes).toEqual(frozen);
  });
});

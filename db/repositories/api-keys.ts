import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../client.js';
import type { ApiScope } from './directory-api.js';

/** What a key looks like: `hds_` and 43 characters of base64url (256 random bits). */
const KEY_PATTERN = /^hds_[A-Za-z0-9_-]{43}$/;
const PREFIX_LENGTH = 12; // `hds_` and 8 characters: enough to tell keys apart, useless to guess with
// last_used_at is written at most this often per key, so a busy client does not turn reads into writes.
const LAST_USED_RESOLUTION_MS = 60_000;

const hashOf = (key: string) => createHash('sha256').update(key).digest('hex');

/** Creates a key for the org; the key is returned this once and never stored. */
export async function createApiKey(db: Db, input: { orgId: string; name: string; createdBy: string | null }): Promise<{ id: string; key: string; prefix: string }> {
  const key = `hds_${randomBytes(32).toString('base64url')}`;
  const prefix = key.slice(0, PREFIX_LENGTH);
  const row = await db
    .insertInto('api_keys')
    .values({ org_id: input.orgId, name: input.name, prefix, token_hash: hashOf(key), created_by: input.createdBy })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, key, prefix };
}

/** The org's keys for Settings, newest first, revoked ones included (greyed). */
export function listApiKeys(db: Db, orgId: string) {
  return db
    .selectFrom('api_keys as k')
    .leftJoin('accounts as a', 'a.id', 'k.created_by')
    .select(['k.id', 'k.name', 'k.prefix', 'k.created_at', 'k.last_used_at', 'k.revoked_at', 'a.display_name as created_by_name'])
    .where('k.org_id', '=', orgId)
    .orderBy('k.created_at', 'desc')
    .execute();
}

/** Revokes one of the org's keys; false when the org has no such live key. */
export async function revokeApiKey(db: Db, orgId: string, keyId: string): Promise<boolean> {
  const result = await db.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', keyId).where('org_id', '=', orgId).where('revoked_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** What a presented key may read, if it is a live key: its org and that org's connections; notes when it was used. */
export async function authenticateApiKey(db: Db, presented: string, now = new Date()): Promise<(ApiScope & { keyId: string }) | undefined> {
  if (!KEY_PATTERN.test(presented)) return undefined;
  const row = await db
    .selectFrom('api_keys as k')
    .select(['k.id', 'k.org_id', 'k.last_used_at'])
    .select(sql<string[]>`array(select c.id from entra_connections c where c.org_id = k.org_id order by c.id)`.as('connection_ids'))
    .where('k.token_hash', '=', hashOf(presented))
    .where('k.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.last_used_at === null || now.getTime() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.id).execute();
  }
  return { keyId: row.id, orgId: row.org_id, connectionIds: row.connection_ids };
}

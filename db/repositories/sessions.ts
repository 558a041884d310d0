import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, Flash } from '../schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export async function createSession(db: Executor, session: { idHash: string; accountId: string; currentOrgId: string | null; ttlMs: number }) {
  await db
    .insertInto('sessions')
    .values({
      id_hash: session.idHash,
      account_id: session.accountId,
      current_org_id: session.currentOrgId,
      expires_at: new Date(Date.now() + session.ttlMs),
    })
    .execute();
}

/** The live session with its account, or undefined if unknown or expired. */
export function findSession(db: Executor, idHash: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('accounts', 'accounts.id', 'sessions.account_id')
    .select(['sessions.id_hash', 'sessions.current_org_id', 'accounts.id as account_id', 'accounts.email', 'accounts.display_name'])
    .where('sessions.id_hash', '=', idHash)
    .where('sessions.expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
}

export async function deleteSession(db: Executor, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

export async function setCurrentOrg(db: Executor, idHash: string, orgId: string): Promise<void> {
  await db.updateTable('sessions').set({ current_org_id: orgId }).where('id_hash', '=', idHash).execute();
}

export async function setFlash(db: Executor, idHash: string, flash: Flash): Promise<void> {
  await db.updateTable('sessions').set({ flash: JSON.stringify(flash) }).where('id_hash', '=', idHash).execute();
}

/** Reads and clears the one-time message shown after a redirect. */
export async function takeFlash(db: Executor, idHash: string): Promise<Flash | undefined> {
  const row = await db.selectFrom('sessions').select('flash').where('id_hash', '=', idHash).executeTakeFirst();
  if (!row?.flash) return undefined;
  await db.updateTable('sessions').set({ flash: null }).where('id_hash', '=', idHash).execute();
  return row.flash;
}

/** Sessions past their expiry: never accepted (findSession), deleted by the sweep. */
export async function deleteExpiredSessions(db: Executor): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', sql<Date>`now()`).executeTakeFirst();
  return Number(result.numDeletedRows);
}

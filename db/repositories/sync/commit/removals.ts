import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../schema.js';

type Db = Kysely<Database>;

/** A held set's digest: what the pane shows and a confirmation names (sorted ids, SHA-256). */
export function digestOf(userIds: string[]): string {
  return createHash('sha256').update([...userIds].sort().join(',')).digest('base64url');
}

/** The held set an admin confirmed, if it is still the one held (same run, same digest); else nobody. */
export async function confirmedSet(trx: Db, connectionId: string, confirmed: { runId: string; digest: string } | undefined): Promise<Set<string>> {
  if (!confirmed) return new Set();
  const rows = await trx.selectFrom('pending_removals').select('user_id').where('connection_id', '=', connectionId).where('run_id', '=', confirmed.runId).execute();
  const ids = rows.map((row) => row.user_id);
  return digestOf(ids) === confirmed.digest ? new Set(ids) : new Set();
}

/** Records the set this run holds back (replacing any earlier one); an empty set clears it. */
export async function holdForConfirmation(trx: Db, connectionId: string, runId: string, userIds: string[]): Promise<void> {
  await trx.deleteFrom('pending_removals').where('connection_id', '=', connectionId).execute();
  if (userIds.length === 0) return;
  await sql`insert into pending_removals (connection_id, run_id, user_id) select ${connectionId}::uuid, ${runId}::uuid, unnest(${userIds}::uuid[])`.execute(trx);
}

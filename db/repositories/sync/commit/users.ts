import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../schema.js';
import { analyzeIfGrown } from './tree.js';

type Db = Kysely<Database>;

const REMOVED_REASON = 'In no synced group';

/**
 * Step 2: the properties of everyone Hook knows, and new users who are members of some group.
 * Staging computed the guest, shared-mailbox and domain rules; this only copies them.
 */
export async function upsertUsers(trx: Db, connectionId: string, runId: string): Promise<{ added: number; updated: number }> {
  // Who is written is settled first, in a table of this transaction: a statement that read
  // directory_users row by row while inserting into it would walk its own new rows each time (with
  // an empty table's statistics the planner chose that, and a first sync took two minutes).
  await sql`drop table if exists commit_users`.execute(trx);
  await sql`create temporary table commit_users on commit drop as
      select s.user_id, s.display_name, s.mail, s.user_principal_name, s.user_type, s.account_enabled, s.is_guest, s.is_shared_mailbox, s.email_domain
      from sync_staged_users s
      where s.run_id = ${runId}::uuid and not s.deleted
        and (exists (select 1 from directory_users d where d.connection_id = ${connectionId}::uuid and d.user_id = s.user_id)
             or exists (select 1 from group_edges e where e.connection_id = ${connectionId}::uuid and e.member_id = s.user_id))`.execute(trx);
  // Counted in PostgreSQL: a first sync of 300,000 users would otherwise hand this process a row
  // each. In Entra id order, new users' Hook ids (time-ordered, migration 0016) grow with it, and
  // so do the index entries of their events, which name users in that order.
  const { rows } = await sql<{ added: number; upserted: number }>`
    with upserted as (
      insert into directory_users as u (connection_id, user_id, display_name, mail, user_principal_name, user_type, account_enabled, is_guest, is_shared_mailbox, email_domain)
      select ${connectionId}::uuid, s.user_id, s.display_name, s.mail, s.user_principal_name, s.user_type, s.account_enabled, s.is_guest, s.is_shared_mailbox, s.email_domain
      from commit_users s
      order by s.user_id
      on conflict (connection_id, user_id) do update set
        display_name = excluded.display_name, mail = excluded.mail, user_principal_name = excluded.user_principal_name,
        user_type = excluded.user_type, account_enabled = excluded.account_enabled, is_guest = excluded.is_guest,
        is_shared_mailbox = excluded.is_shared_mailbox, email_domain = excluded.email_domain, updated_at = now()
      where (u.display_name, u.mail, u.user_principal_name, u.user_type, u.account_enabled)
        is distinct from (excluded.display_name, excluded.mail, excluded.user_principal_name, excluded.user_type, excluded.account_enabled)
      returning (xmax = 0) as inserted)
    select count(*) filter (where inserted)::int as added, count(*)::int as upserted from upserted`.execute(trx);
  const { added, upserted } = rows[0]!;
  await analyzeIfGrown(trx, 'directory_users', BigInt(upserted));
  return { added, updated: upserted - added };
}

/** A user who is a member again comes back; returns how many did. */
export async function restoreMembers(trx: Db, connectionId: string): Promise<number> {
  const restored = await sql`update directory_users u set removed_at = null, removed_reason = null, updated_at = now()
    where u.connection_id = ${connectionId}::uuid and u.removed_at is not null
    and exists (select 1 from group_memberships m where m.connection_id = u.connection_id and m.user_id = u.user_id)`.execute(trx);
  return Number(restored.numAffectedRows ?? 0);
}

/** Active users in no synced group; `among`: only these (null: everyone). */
export async function usersInNoGroup(trx: Db, connectionId: string, among: string[] | null): Promise<string[]> {
  if (among?.length === 0) return [];
  const rows = await trx
    .selectFrom('directory_users as u')
    .select('u.user_id')
    .where('u.connection_id', '=', connectionId)
    .where('u.removed_at', 'is', null)
    .$if(among !== null, (query) => query.where('u.user_id', '=', sql<string>`any(${among}::uuid[])`))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('group_memberships as m').select('m.user_id').whereRef('m.connection_id', '=', 'u.connection_id').whereRef('m.user_id', '=', 'u.user_id'))))
    .execute();
  return rows.map((row) => row.user_id);
}

export async function activeUserCount(trx: Db, connectionId: string): Promise<number> {
  const row = await trx.selectFrom('directory_users').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', connectionId).where('removed_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Soft removal, with the reason the pane shows; returns how many left. */
export async function removeUsers(trx: Db, connectionId: string, userIds: string[], now: Date): Promise<number> {
  if (userIds.length === 0) return 0;
  const removed = await trx
    .updateTable('directory_users')
    .set({ removed_at: now, removed_reason: REMOVED_REASON, updated_at: now })
    .where('connection_id', '=', connectionId)
    .where('user_id', 'in', userIds)
    .executeTakeFirst();
  return Number(removed.numUpdatedRows);
}

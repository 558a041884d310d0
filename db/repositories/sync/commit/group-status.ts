import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../schema.js';

type Db = Kysely<Database>;

/** One synced group's row on the Groups tab after a commit. */
export interface GroupStatusRow {
  groupId: string;
  /** null: keep the stored value. */
  name: string | null;
  type: string | null;
  count: number | null;
  /** Synced this run: the time is stamped and the error cleared. */
  ok: boolean;
  error: string | null;
  missing: boolean;
}

/** Step 6: what the Groups tab shows, one statement for every synced group. */
export async function writeGroupStatus(trx: Db, connectionId: string, rows: GroupStatusRow[], now: Date): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map((u) => sql`(${u.groupId}::uuid, ${u.name}::text, ${u.type}::text, ${u.count}::integer, ${u.ok}::boolean, ${u.error}::text, ${u.missing}::boolean)`);
  await sql`update synced_groups g set
      display_name = coalesce(v.name, g.display_name),
      group_type = coalesce(v.type, g.group_type),
      member_count = coalesce(v.count, g.member_count),
      last_synced_at = case when v.ok then ${now} else g.last_synced_at end,
      last_error = case when v.ok then null else coalesce(v.error, g.last_error) end,
      missing_since = case when v.missing then coalesce(g.missing_since, ${now}) when v.ok then null else g.missing_since end
    from (values ${sql.join(values)}) as v(group_id, name, type, count, ok, error, missing)
    where g.connection_id = ${connectionId}::uuid and g.group_id = v.group_id`.execute(trx);
}

/** Names a delta saw (every group whose members changed comes with its name). */
export async function renameKnownGroups(trx: Db, connectionId: string, named: Array<{ groupId: string; name: string }>): Promise<void> {
  if (named.length === 0) return;
  await sql`update directory_groups g set display_name = v.name
    from unnest(${named.map((row) => row.groupId)}::uuid[], ${named.map((row) => row.name)}::text[]) as v(group_id, name)
    where g.connection_id = ${connectionId}::uuid and g.group_id = v.group_id and g.display_name is distinct from v.name`.execute(trx);
}

/** Groups read in full this run: their name, whether they hide their membership, and when. */
export async function recordGroupsRead(trx: Db, connectionId: string, groups: Array<{ groupId: string; name: string | null; hidden: boolean }>, now: Date): Promise<void> {
  if (groups.length === 0) return;
  await trx
    .insertInto('directory_groups')
    .values(groups.map((group) => ({ connection_id: connectionId, group_id: group.groupId, display_name: group.name, hidden_membership: group.hidden, read_at: now })))
    .onConflict((conflict) => conflict.columns(['connection_id', 'group_id']).doUpdateSet((eb) => ({ display_name: eb.ref('excluded.display_name'), hidden_membership: eb.ref('excluded.hidden_membership'), read_at: now })))
    .execute();
}

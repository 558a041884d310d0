import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

type Db = Kysely<Database>;

export const PICKER_PAGE = 1_000;

/** The picker's rows: the first 1,000 groups by name, plus any chosen ones found by search. */
export function pickerGroups(db: Db, connectionId: string, alsoIds: string[]) {
  return db
    .selectFrom('entra_groups')
    .select(['group_id', 'display_name', 'group_type', 'member_count', 'in_first_page'])
    .where('connection_id', '=', connectionId)
    .where((eb) => (alsoIds.length === 0 ? eb('in_first_page', '=', true) : eb.or([eb('in_first_page', '=', true), eb('group_id', 'in', alsoIds)])))
    .orderBy(sql`lower(display_name)`)
    .orderBy('group_id')
    .limit(PICKER_PAGE + alsoIds.length)
    .execute();
}

export async function savedGroupIds(db: Db, connectionId: string): Promise<string[]> {
  const rows = await db.selectFrom('synced_groups').select('group_id').where('connection_id', '=', connectionId).execute();
  return rows.map((row) => row.group_id);
}

export function groupNames(db: Db, connectionId: string, groupIds: string[]) {
  if (groupIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('entra_groups')
    .select(['group_id', 'display_name', 'group_type'])
    .where('connection_id', '=', connectionId)
    .where('group_id', 'in', groupIds)
    .execute();
}

export function previewSamples(db: Db, connectionId: string, previewId: string) {
  return db.selectFrom('preview_samples').selectAll().where('connection_id', '=', connectionId).where('preview_id', '=', previewId).execute();
}

/** What saving a preview changes in Hook's user list, counted by the rules the sync commits with. */
export interface SaveImpact {
  added: number;
  removed: number;
  unchanged: number;
  /** Those removed, by name (at most REMOVED_LISTED). */
  removedUsers: Array<{ user_id: string; display_name: string | null; mail: string | null }>;
  /** Selected groups whose members are not known (not read in time, or failed, and never synced): the counts leave them out. */
  unknownGroupIds: string[];
}

export const REMOVED_LISTED = 200;

/**
 * After the save, Hook's users are the user members (nested included) of the selected groups:
 * read by this preview where it read a group in full, else as the last sync stored them. Users
 * added are those not active in Hook now; removed, the active ones in no selected group (the
 * sync's rule: a user leaves only when no synced group has them); unchanged, the rest.
 */
export async function saveImpact(db: Db, connectionId: string, previewId: string, selectedGroupIds: string[]): Promise<SaveImpact> {
  const [complete, stored] = await Promise.all([
    selectedGroupIds.length === 0
      ? Promise.resolve([])
      : db.selectFrom('preview_samples').select('group_id').where('connection_id', '=', connectionId).where('preview_id', '=', previewId).where('complete', '=', true).where('group_id', 'in', selectedGroupIds).execute(),
    selectedGroupIds.length === 0 ? Promise.resolve([]) : db.selectFrom('synced_groups').select('group_id').where('connection_id', '=', connectionId).where('group_id', 'in', selectedGroupIds).execute(),
  ]);
  const read = complete.map((row) => row.group_id);
  const fromSync = stored.map((row) => row.group_id).filter((id) => !read.includes(id));
  const unknownGroupIds = selectedGroupIds.filter((id) => !read.includes(id) && !fromSync.includes(id));
  const none = ['00000000-0000-0000-0000-000000000000'];
  const after = sql`(select user_id from preview_members where connection_id = ${connectionId} and preview_id = ${previewId} and group_id = any(${read.length > 0 ? read : none}::uuid[])
                     union
                     select user_id from group_memberships where connection_id = ${connectionId} and group_id = any(${fromSync.length > 0 ? fromSync : none}::uuid[]))`;
  const counts = await sql<{ added: string; removed: string; unchanged: string }>`
    with after as ${after},
    active as (select user_id from directory_users where connection_id = ${connectionId} and removed_at is null)
    select (select count(*) from after a where not exists (select 1 from active c where c.user_id = a.user_id)) as added,
           (select count(*) from active c where not exists (select 1 from after a where a.user_id = c.user_id)) as removed,
           (select count(*) from active c where exists (select 1 from after a where a.user_id = c.user_id)) as unchanged`.execute(db);
  const removedUsers = await sql<{ user_id: string; display_name: string | null; mail: string | null }>`
    with after as ${after}
    select u.user_id, u.display_name, u.mail from directory_users u
    where u.connection_id = ${connectionId} and u.removed_at is null and not exists (select 1 from after a where a.user_id = u.user_id)
    order by coalesce(u.display_name, ''), u.user_id limit ${REMOVED_LISTED}`.execute(db);
  const row = counts.rows[0]!;
  return { added: Number(row.added), removed: Number(row.removed), unchanged: Number(row.unchanged), removedUsers: removedUsers.rows, unknownGroupIds };
}

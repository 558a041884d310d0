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

/**
 * Hook users that unsyncing `removedGroupIds` will remove: members of those groups (as last
 * synced) who are in none of the groups that stay. Exact, from the stored memberships.
 */
export function usersRemovedByUnsync(db: Db, connectionId: string, removedGroupIds: string[], keptGroupIds: string[]) {
  if (removedGroupIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('group_memberships as m')
    .innerJoin('directory_users as u', (join) => join.onRef('u.connection_id', '=', 'm.connection_id').onRef('u.user_id', '=', 'm.user_id'))
    .select(['u.user_id', 'u.display_name', 'u.mail'])
    .distinct()
    .where('m.connection_id', '=', connectionId)
    .where('m.group_id', 'in', removedGroupIds)
    .where('u.removed_at', 'is', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('group_memberships as k')
            .select('k.user_id')
            .whereRef('k.connection_id', '=', 'm.connection_id')
            .whereRef('k.user_id', '=', 'm.user_id')
            .where('k.group_id', 'in', keptGroupIds.length > 0 ? keptGroupIds : ['00000000-0000-0000-0000-000000000000']),
        ),
      ),
    )
    .orderBy('u.display_name')
    .execute();
}

import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

type Db = Kysely<Database>;

/** Lines of a history page, and how many make a page. */
export const HISTORY_PAGE = 50;
export const RUNS_SHOWN = 25;

/** The connection's recent sync cycles, newest first, with the groups each could not read. */
export async function recentRuns(db: Db, connectionId: string, limit = RUNS_SHOWN) {
  const runs = await db
    .selectFrom('sync_runs')
    .select(['id', 'trigger', 'kind', 'status', 'started_at', 'finished_at', 'users_added', 'users_updated', 'users_removed', 'groups_ok', 'groups_failed', 'graph_requests', 'error'])
    .where('connection_id', '=', connectionId)
    .orderBy('started_at', 'desc')
    .limit(limit)
    .execute();
  const failed = runs.length === 0 ? [] : await db.selectFrom('sync_run_groups').select(['run_id', 'group_id', 'display_name', 'error']).where('run_id', 'in', runs.map((run) => run.id)).where('status', '=', 'failed').execute();
  return runs.map((run) => ({ ...run, failedGroups: failed.filter((group) => group.run_id === run.id) }));
}

/** History lines: events, the cycle that wrote each, and the user and group they name. */
function historyEvents(db: Db, connectionId: string, before: string | undefined) {
  let query = db
    .selectFrom('directory_events as e')
    .leftJoin('sync_runs as r', 'r.id', 'e.run_id')
    .leftJoin('directory_users as u', 'u.id', 'e.user_ref')
    .leftJoin('synced_groups as g', 'g.id', 'e.group_ref')
    // Users and groups by their names now, which an admin recognizes (the event keeps the name then).
    .select([sql<string>`e.id::text`.as('id'), 'e.type', 'e.occurred_at', 'e.data', 'r.id as run_id', 'r.kind as run_kind', 'r.trigger as run_trigger', 'r.started_at as run_started_at', 'u.display_name as user_name', 'u.mail as user_mail', 'g.display_name as group_name'])
    .where('e.connection_id', '=', connectionId);
  if (before !== undefined) query = query.where(sql<boolean>`e.id < ${before}::bigint`);
  return query.orderBy('e.id', 'desc').limit(HISTORY_PAGE + 1);
}

export type HistoryRow = Awaited<ReturnType<ReturnType<typeof historyEvents>['execute']>>[number];

/** A user of the connection (by Hook id) and their history, newest first, from `before` (an event id). */
export async function userHistory(db: Db, connectionId: string, userId: string, before?: string) {
  const user = await db
    .selectFrom('directory_users')
    .select(['id', 'user_id', 'display_name', 'mail', 'user_principal_name', 'is_guest', 'account_enabled', 'is_shared_mailbox', 'removed_at', 'removed_reason', 'first_seen_at'])
    .where('connection_id', '=', connectionId)
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!user) return undefined;
  const events = await historyEvents(db, connectionId, before).where('e.user_ref', '=', userId).execute();
  return { user, events };
}

/** A synced group of the connection (by Hook id): its renames and membership changes, newest first. */
export async function groupHistory(db: Db, connectionId: string, groupId: string, before?: string) {
  const group = await db.selectFrom('synced_groups').select(['id', 'group_id', 'display_name', 'member_count', 'added_at', 'last_error']).where('connection_id', '=', connectionId).where('id', '=', groupId).executeTakeFirst();
  if (!group) return undefined;
  const events = await historyEvents(db, connectionId, before).where('e.group_ref', '=', groupId).execute();
  return { group, events };
}

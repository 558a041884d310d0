import { sql, type Kysely } from 'kysely';
import type { Database } from '../../schema.js';

type Db = Kysely<Database>;

/** A user as a run stages it: Graph's properties and the rules computed from them at staging. */
export interface StagedUser {
  id: string;
  displayName: string | null;
  mail: string | null;
  userPrincipalName: string | null;
  userType: string | null;
  accountEnabled: boolean | null;
  isGuest: boolean;
  isSharedMailbox: boolean;
  emailDomain: string;
}

export interface StagedEdge {
  id: string;
  type: 'user' | 'group';
  removed: boolean;
}

/** A group's outcome in a run, as the Groups tab and the commit read it. */
export interface GroupOutcomeRow {
  groupId: string;
  status: 'ok' | 'failed' | 'missing';
  displayName?: string | null;
  groupType?: string | null;
  error?: string | null;
  /** Its direct members were read in full: they replace the stored ones. */
  replaced?: boolean;
  hidden?: boolean;
}

const byId = <T extends { id: string }>(rows: T[]) => [...new Map(rows.map((row) => [row.id, row])).values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/**
 * `latest`: a delta may list an object twice, and the later entry wins; the copies a full read
 * meets are the same, and the first is kept. Rows go as one JSON parameter: one statement of a
 * few parameters instead of nine per user, and serialized natively (as arrays, escaping each
 * element took the worker a tenth of a full read's CPU). In id order, so reads staging the same
 * users at the same time lock them in one order (no deadlock).
 */
export async function stageUsers(db: Db, runId: string, users: StagedUser[], options: { deleted?: boolean; latest?: boolean } = {}): Promise<void> {
  const insert = usersInsert(runId, users, options);
  if (insert) await insert.execute(db);
}

/** A delta's member changes of one group: a member listed twice takes its later entry (added, then removed). */
export async function stageEdges(db: Db, runId: string, groupId: string, edges: StagedEdge[]): Promise<void> {
  if (edges.length === 0) return;
  const latest = [...new Map(edges.map((edge) => [edge.id, edge])).values()];
  await sql`insert into sync_staged_members (run_id, group_id, member_id, member_type, removed)
    select ${runId}::uuid, ${groupId}::uuid, e.id, e.type, e.removed from json_to_recordset(${JSON.stringify(latest)}::json) as e(id uuid, type text, removed boolean)
    on conflict (run_id, group_id, member_id) do update set removed = excluded.removed, member_type = excluded.member_type`.execute(db);
}

/**
 * A page of a full read: its users not staged yet and its edges, in one statement (a round trip
 * and a statement fewer for each of a large tenant's 2,000 pages). The two inserts touch
 * different tables, so their order inside the statement does not matter.
 */
export async function stagePage(db: Db, runId: string, groupId: string, users: StagedUser[], edges: StagedEdge[]): Promise<void> {
  const staged = usersInsert(runId, users, { latest: false });
  const edgeRows = pageEdgesInsert(runId, groupId, edges);
  if (staged && edgeRows) await sql`with staged_users as (${staged}) ${edgeRows}`.execute(db);
  else await (staged ?? edgeRows)?.execute(db);
}

function usersInsert(runId: string, users: StagedUser[], { deleted = false, latest = true }: { deleted?: boolean; latest?: boolean }) {
  const rows = byId(users);
  if (rows.length === 0) return undefined;
  const onConflict = latest
    ? sql`do update set display_name = excluded.display_name, mail = excluded.mail, user_principal_name = excluded.user_principal_name, user_type = excluded.user_type,
            account_enabled = excluded.account_enabled, is_guest = excluded.is_guest, is_shared_mailbox = excluded.is_shared_mailbox, email_domain = excluded.email_domain, deleted = excluded.deleted`
    : sql`do nothing`;
  return sql`insert into sync_staged_users (run_id, user_id, display_name, mail, user_principal_name, user_type, account_enabled, is_guest, is_shared_mailbox, email_domain, deleted)
    select ${runId}::uuid, u.id, u."displayName", u.mail, u."userPrincipalName", u."userType", u."accountEnabled", u."isGuest", u."isSharedMailbox", u."emailDomain", ${deleted}::boolean
    from json_to_recordset(${JSON.stringify(rows)}::json) as u(id uuid, "displayName" text, mail text, "userPrincipalName" text, "userType" text, "accountEnabled" boolean, "isGuest" boolean, "isSharedMailbox" boolean, "emailDomain" text)
    on conflict (run_id, user_id) ${onConflict}`;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A full read's page of members, none of them removed: their ids go as two comma-separated lists,
 * users and nested groups, which cost the worker and PostgreSQL less to build and take apart than
 * a JSON object per member (session 16: 0.3–0.4 CPU s less each in a 100,000-user read). Graph's
 * ids are GUIDs; any other id is refused here, as the uuid cast refuses it in a JSON row, before
 * it could be split into two.
 */
function pageEdgesInsert(runId: string, groupId: string, edges: StagedEdge[]) {
  if (edges.length === 0) return undefined;
  const ids: Record<StagedEdge['type'], string[]> = { user: [], group: [] };
  for (const edge of edges) {
    if (!GUID.test(edge.id)) throw new Error(`Graph listed a member whose id is not a GUID: ${JSON.stringify(edge.id.slice(0, 64))}`);
    ids[edge.type].push(edge.id);
  }
  // A member listed twice in a page is one row (do nothing: the same statement may meet it again).
  return sql`insert into sync_staged_members (run_id, group_id, member_id, member_type, removed)
    select ${runId}::uuid, ${groupId}::uuid, m.id, m.type, false
    from (select unnest(string_to_array(${ids.user.join(',')}, ','))::uuid, 'user'
          union all select unnest(string_to_array(${ids.group.join(',')}, ','))::uuid, 'group') as m(id, type)
    on conflict (run_id, group_id, member_id) do nothing`;
}

/** Of these groups, those the run has staged members for already (by an earlier, abandoned attempt). */
export async function groupsWithStagedMembers(db: Db, runId: string, groupIds: string[]): Promise<Set<string>> {
  if (groupIds.length === 0) return new Set();
  const rows = await sql<{ group_id: string }>`select g.group_id from unnest(${groupIds}::uuid[]) as g(group_id)
    where exists (select 1 from sync_staged_members s where s.run_id = ${runId}::uuid and s.group_id = g.group_id)`.execute(db);
  return new Set(rows.rows.map((row) => row.group_id));
}

/** A read that starts a group over must not keep rows of an earlier, abandoned attempt. */
export async function clearStagedGroup(db: Db, runId: string, groupId: string): Promise<void> {
  await db.deleteFrom('sync_staged_members').where('run_id', '=', runId).where('group_id', '=', groupId).execute();
}

/** Everything a run staged, its group outcomes included (a delta round starting again). */
export async function clearStagedRun(db: Db, runId: string): Promise<void> {
  for (const table of ['sync_staged_members', 'sync_staged_users', 'sync_run_groups'] as const) await db.deleteFrom(table).where('run_id', '=', runId).execute();
}

/** Staged users and members, once their run has committed. */
export async function dropStaging(db: Db, runId: string): Promise<void> {
  await db.deleteFrom('sync_staged_members').where('run_id', '=', runId).execute();
  await db.deleteFrom('sync_staged_users').where('run_id', '=', runId).execute();
}

export async function recordGroupOutcome(db: Db, runId: string, outcome: GroupOutcomeRow, graphRequests: number): Promise<void> {
  const values = {
    status: outcome.status,
    display_name: outcome.displayName ?? null,
    group_type: outcome.groupType ?? null,
    error: outcome.error ?? null,
    graph_requests: graphRequests,
    replaced: outcome.replaced ?? false,
    hidden_membership: outcome.hidden ?? false,
  };
  await db
    .insertInto('sync_run_groups')
    .values({ run_id: runId, group_id: outcome.groupId, ...values })
    .onConflict((conflict) => conflict.columns(['run_id', 'group_id']).doUpdateSet(values))
    .execute();
}

/** Marks groups failed unless they already have an outcome; returns the ones marked. */
export async function recordFailedGroups(db: Db, runId: string, groupIds: string[], error: string): Promise<string[]> {
  if (groupIds.length === 0) return [];
  const rows = await db
    .insertInto('sync_run_groups')
    .values(groupIds.map((groupId) => ({ run_id: runId, group_id: groupId, status: 'failed' as const, error })))
    .onConflict((conflict) => conflict.columns(['run_id', 'group_id']).doNothing())
    .returning('group_id')
    .execute();
  return rows.map((row) => row.group_id);
}

/** The groups nested directly in the given ones, as this run staged them. */
export async function stagedNestedGroups(db: Db, runId: string, groupIds: string[]): Promise<string[]> {
  if (groupIds.length === 0) return [];
  const rows = await db.selectFrom('sync_staged_members').select('member_id').distinct().where('run_id', '=', runId).where('group_id', 'in', groupIds).where('member_type', '=', 'group').where('removed', '=', false).execute();
  return rows.map((row) => row.member_id);
}

/** Users staged as new members whom neither Hook nor this run has properties for. */
export async function membersWithoutProperties(db: Db, connectionId: string, runId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('sync_staged_members as s')
    .select('s.member_id')
    .distinct()
    .where('s.run_id', '=', runId)
    .where('s.member_type', '=', 'user')
    .where('s.removed', '=', false)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('directory_users as u').select('u.user_id').where('u.connection_id', '=', connectionId).whereRef('u.user_id', '=', 's.member_id'))))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('sync_staged_users as su').select('su.user_id').where('su.run_id', '=', runId).whereRef('su.user_id', '=', 's.member_id'))))
    .execute();
  return rows.map((row) => row.member_id);
}

/** The groups in which this run staged any of the given members. */
export async function groupsStagingMembers(db: Db, runId: string, memberIds: string[]): Promise<string[]> {
  if (memberIds.length === 0) return [];
  const rows = await db.selectFrom('sync_staged_members').select('group_id').distinct().where('run_id', '=', runId).where('member_id', 'in', memberIds).execute();
  return rows.map((row) => row.group_id);
}

/** Users this run staged as present whom Hook holds as removed: restored in Entra, or back for another reason. */
export async function stagedUsersHookRemoved(db: Db, connectionId: string, runId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('sync_staged_users as s')
    .innerJoin('directory_users as u', (join) => join.onRef('u.user_id', '=', 's.user_id').on('u.connection_id', '=', connectionId))
    .select('s.user_id')
    .where('s.run_id', '=', runId)
    .where('s.deleted', '=', false)
    .where('u.removed_at', 'is not', null)
    .execute();
  return rows.map((row) => row.user_id);
}

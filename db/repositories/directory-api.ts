import { sql } from 'kysely';
import type { Db } from '../client.js';
import { searchMatches } from './directory.js';

// The directory API's reads. A key's scope is its org and the ids of that org's connections,
// read with the key; every query here filters by those ids, so an id from another org finds
// nothing, whatever is forged. Filtering by the ids themselves, not by a join on the org, lets
// the planner see that a connection holds the whole list: a search walks the primary key and
// stops at the page's last match instead of sorting every match. Lists are keyset-paginated on
// primary-key order: page 1,000 costs what page 1 costs.

export interface ApiScope {
  orgId: string;
  connectionIds: string[];
}

type GroupStatus = 'ok' | 'failing' | 'missing' | 'pending';

export function apiConnections(db: Db, scope: ApiScope, connectionId?: string) {
  let query = db
    .selectFrom('entra_connections')
    .select(['id', 'tenant_id', 'tenant_name', 'status', 'sync_status', 'last_sync_at', 'user_count'])
    .where('org_id', '=', scope.orgId);
  if (connectionId) query = query.where('id', '=', connectionId);
  return query.orderBy('connected_at').orderBy('id').execute();
}

/** The scope's connections, or the one asked for when it is in scope (none when it is not). */
const connectionsOf = (scope: ApiScope, connectionId?: string) =>
  connectionId === undefined ? scope.connectionIds : scope.connectionIds.filter((id) => id === connectionId);

const groupStatus = sql<GroupStatus>`case when g.last_error is not null then 'failing' when g.missing_since is not null then 'missing' when g.last_synced_at is null then 'pending' else 'ok' end`;

export function apiGroups(db: Db, scope: ApiScope, filter: { groupId?: string; connectionId?: string; status?: GroupStatus; after?: string; limit: number }) {
  let query = db
    .selectFrom('synced_groups as g')
    .select(['g.id', 'g.group_id', 'g.connection_id', 'g.display_name', 'g.group_type', 'g.member_count', 'g.last_synced_at', 'g.last_error', groupStatus.as('status')])
    .where('g.connection_id', '=', sql<string>`any(${connectionsOf(scope, filter.connectionId)}::uuid[])`);
  if (filter.groupId) query = query.where('g.id', '=', filter.groupId);
  if (filter.status) query = query.where(groupStatus, '=', filter.status);
  if (filter.after) query = query.where('g.id', '>', filter.after);
  return query.orderBy('g.id').limit(filter.limit + 1).execute();
}

export interface UserKey {
  connectionId: string;
  userId: string;
}

export interface UsersFilter {
  userId?: string;
  connectionId?: string;
  /** A group's members (nested included): read down its memberships, whose primary key is in user order. */
  group?: GroupKey;
  status: 'active' | 'removed' | 'all';
  updatedSince?: Date;
  search?: string;
  after?: UserKey;
  limit: number;
}

const userColumns = ['u.id', 'u.user_id', 'u.connection_id', 'u.display_name', 'u.mail', 'u.user_principal_name', 'u.is_guest', 'u.account_enabled', 'u.is_shared_mailbox', 'u.updated_at', 'u.removed_at'] as const;

/** The scope's users (or one of them), in (connection, Entra id) order, each with its synced groups. */
export async function apiUsers(db: Db, scope: ApiScope, filter: UsersFilter) {
  const group = filter.group;
  const connections = connectionsOf(scope, filter.connectionId).filter((id) => group === undefined || id === group.connection_id);
  let query = db
    .selectFrom('directory_users as u')
    .select(userColumns)
    .where('u.connection_id', '=', sql<string>`any(${connections}::uuid[])`);
  if (group) {
    query = query
      .innerJoin('group_memberships as m', (join) => join.onRef('m.connection_id', '=', 'u.connection_id').onRef('m.user_id', '=', 'u.user_id'))
      .where('m.connection_id', '=', group.connection_id)
      .where('m.group_id', '=', group.group_id);
  }
  if (filter.userId) query = query.where('u.id', '=', filter.userId);
  if (filter.status === 'active') query = query.where('u.removed_at', 'is', null);
  if (filter.status === 'removed') query = query.where('u.removed_at', 'is not', null);
  if (filter.updatedSince) query = query.where('u.updated_at', '>=', filter.updatedSince);
  if (filter.search) query = query.where(searchMatches(sql.ref('u.search_text'), filter.search));
  if (filter.after) query = query.where(sql<boolean>`(u.connection_id, u.user_id) > (${filter.after.connectionId}::uuid, ${filter.after.userId}::uuid)`);
  return withGroups(db, await query.orderBy('u.connection_id').orderBy('u.user_id').limit(filter.limit + 1).execute());
}

/** Where a synced group's members are: its connection and Entra id. */
export interface GroupKey {
  connection_id: string;
  group_id: string;
}

/** A group of the scope by Hook's id, or undefined. */
export function apiGroupKey(db: Db, scope: ApiScope, groupId: string): Promise<GroupKey | undefined> {
  return db
    .selectFrom('synced_groups')
    .select(['connection_id', 'group_id'])
    .where('id', '=', groupId)
    .where('connection_id', '=', sql<string>`any(${scope.connectionIds}::uuid[])`)
    .executeTakeFirst();
}

/** The users with the Hook ids of their synced groups, looked up for the whole page in one query. */
async function withGroups<U extends { connection_id: string; user_id: string }>(db: Db, users: U[]) {
  const groups = new Map<string, string[]>();
  if (users.length > 0) {
    const rows = await db
      .selectFrom('group_memberships as m')
      .innerJoin('synced_groups as g', (join) => join.onRef('g.connection_id', '=', 'm.connection_id').onRef('g.group_id', '=', 'm.group_id'))
      .select(['m.connection_id', 'm.user_id', 'g.id'])
      // Two array parameters, not a list of 101 row constructors: planning that list cost more than running it.
      .where(sql<boolean>`(m.connection_id, m.user_id) in (select * from unnest(${users.map((user) => user.connection_id)}::uuid[], ${users.map((user) => user.user_id)}::uuid[]))`)
      .orderBy('g.id')
      .execute();
    for (const row of rows) {
      const key = `${row.connection_id}/${row.user_id}`;
      groups.set(key, [...(groups.get(key) ?? []), row.id]);
    }
  }
  return users.map((user) => ({ ...user, groups: groups.get(`${user.connection_id}/${user.user_id}`) ?? [] }));
}

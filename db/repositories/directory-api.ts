import { sql } from 'kysely';
import type { Db } from '../client.js';
import { searchMatches } from './directory.js';

// The directory API's reads. Every query joins the connection and filters by the caller's org,
// so an id from another org finds nothing, whatever is forged. Lists are keyset-paginated on
// primary-key order: page 1,000 costs what page 1 costs.

type GroupStatus = 'ok' | 'failing' | 'missing' | 'pending';

export function apiConnections(db: Db, orgId: string, connectionId?: string) {
  let query = db
    .selectFrom('entra_connections')
    .select(['id', 'tenant_id', 'tenant_name', 'status', 'sync_status', 'last_sync_at', 'user_count'])
    .where('org_id', '=', orgId);
  if (connectionId) query = query.where('id', '=', connectionId);
  return query.orderBy('connected_at').orderBy('id').execute();
}

const groupStatus = sql<GroupStatus>`case when g.last_error is not null then 'failing' when g.missing_since is not null then 'missing' when g.last_synced_at is null then 'pending' else 'ok' end`;

export function apiGroups(db: Db, orgId: string, filter: { groupId?: string; connectionId?: string; status?: GroupStatus; after?: string; limit: number }) {
  let query = db
    .selectFrom('synced_groups as g')
    .innerJoin('entra_connections as c', 'c.id', 'g.connection_id')
    .select(['g.id', 'g.group_id', 'g.connection_id', 'g.display_name', 'g.group_type', 'g.member_count', 'g.last_synced_at', 'g.last_error', groupStatus.as('status')])
    .where('c.org_id', '=', orgId);
  if (filter.groupId) query = query.where('g.id', '=', filter.groupId);
  if (filter.connectionId) query = query.where('g.connection_id', '=', filter.connectionId);
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
  /** Hook's group id: its members (nested included), in membership order. */
  groupId?: string;
  status: 'active' | 'removed' | 'all';
  updatedSince?: Date;
  search?: string;
  after?: UserKey;
  limit: number;
}

export async function apiUsers(db: Db, orgId: string, filter: UsersFilter) {
  let query = db
    .selectFrom('directory_users as u')
    .innerJoin('entra_connections as c', 'c.id', 'u.connection_id')
    .select(['u.id', 'u.user_id', 'u.connection_id', 'u.display_name', 'u.mail', 'u.user_principal_name', 'u.is_guest', 'u.account_enabled', 'u.is_shared_mailbox', 'u.updated_at', 'u.removed_at'])
    .where('c.org_id', '=', orgId);
  if (filter.userId) query = query.where('u.id', '=', filter.userId);
  if (filter.connectionId) query = query.where('u.connection_id', '=', filter.connectionId);
  if (filter.groupId) {
    // Driven from the group's memberships (their primary key is in user order), not a scan of every user.
    query = query
      .innerJoin('group_memberships as m', (join) => join.onRef('m.connection_id', '=', 'u.connection_id').onRef('m.user_id', '=', 'u.user_id'))
      .innerJoin('synced_groups as g', (join) => join.onRef('g.connection_id', '=', 'm.connection_id').onRef('g.group_id', '=', 'm.group_id'))
      .where('g.id', '=', filter.groupId);
  }
  if (filter.status === 'active') query = query.where('u.removed_at', 'is', null);
  if (filter.status === 'removed') query = query.where('u.removed_at', 'is not', null);
  if (filter.updatedSince) query = query.where('u.updated_at', '>=', filter.updatedSince);
  if (filter.search) query = query.where(searchMatches(sql.ref('u.search_text'), filter.search));
  if (filter.after) query = query.where(sql<boolean>`(u.connection_id, u.user_id) > (${filter.after.connectionId}::uuid, ${filter.after.userId}::uuid)`);
  const users = await query.orderBy('u.connection_id').orderBy('u.user_id').limit(filter.limit + 1).execute();

  // The synced groups of the page's users, in one query.
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

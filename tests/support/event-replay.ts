import { sql } from 'kysely';
import type { Db } from '../../db/client.js';
import { eventsAfter, type FeedPosition } from '../../db/repositories/events.js';

/** A consumer's audience cache, as the README tells one to build it from the events feed alone. */
export interface ReplayedDirectory {
  users: Record<string, unknown>;
  groups: Record<string, unknown>;
  memberships: string[];
}

interface Payload {
  user?: { id: string };
  group?: { id: string };
}

/** Reads a connection's events from the start of the org's feed, `pageSize` at a time, and applies them. */
export async function replayFeed(db: Db, orgId: string, connectionId: string, pageSize = 250): Promise<ReplayedDirectory & { events: number }> {
  const users = new Map<string, unknown>();
  const groups = new Map<string, unknown>();
  const memberships = new Set<string>();
  let after: FeedPosition | undefined;
  let events = 0;
  for (;;) {
    const page = await eventsAfter(db, orgId, { after, limit: pageSize });
    for (const event of page) {
      after = { tx: event.tx, id: event.id };
      if (event.connection_id !== connectionId) continue;
      events += 1;
      const data = event.data as Payload;
      const [kind, change] = event.type.split('.');
      if (kind === 'user') users.set(data.user!.id, data.user);
      else if (kind === 'group' && change === 'removed') groups.delete(data.group!.id);
      else if (kind === 'group') groups.set(data.group!.id, data.group);
      else if (event.type === 'membership.added') memberships.add(`${data.group!.id}/${data.user!.id}`);
      else if (event.type === 'membership.removed') memberships.delete(`${data.group!.id}/${data.user!.id}`);
    }
    if (page.length < pageSize) break;
  }
  return { ...sorted(users, groups, memberships), events };
}

/** The same directory as Hook holds it (and the API shows it): users, synced groups, their members. */
export async function heldDirectory(db: Db, connectionId: string): Promise<ReplayedDirectory> {
  const users = await sql<{ state: { id: string } }>`select hook_user_state(u) as state from directory_users u where connection_id = ${connectionId}`.execute(db);
  const groups = await sql<{ state: { id: string } }>`select hook_group_state(g) as state from synced_groups g where connection_id = ${connectionId}`.execute(db);
  const members = await db
    .selectFrom('group_memberships as m')
    .innerJoin('synced_groups as g', (join) => join.onRef('g.connection_id', '=', 'm.connection_id').onRef('g.group_id', '=', 'm.group_id'))
    .innerJoin('directory_users as u', (join) => join.onRef('u.connection_id', '=', 'm.connection_id').onRef('u.user_id', '=', 'm.user_id'))
    .select(['g.id as group', 'u.id as user'])
    .where('m.connection_id', '=', connectionId)
    .execute();
  return sorted(
    new Map(users.rows.map((row) => [row.state.id, row.state])),
    new Map(groups.rows.map((row) => [row.state.id, row.state])),
    new Set(members.map((row) => `${row.group}/${row.user}`)),
  );
}

const sorted = (users: Map<string, unknown>, groups: Map<string, unknown>, memberships: Set<string>): ReplayedDirectory => ({
  users: Object.fromEntries([...users].sort(([a], [b]) => (a < b ? -1 : 1))),
  groups: Object.fromEntries([...groups].sort(([a], [b]) => (a < b ? -1 : 1))),
  memberships: [...memberships].sort(),
});

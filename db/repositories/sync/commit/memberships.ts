import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../schema.js';
import { analyzeIfGrown, memberThroughTree } from './tree.js';

type Db = Kysely<Database>;

/**
 * Recomputes the effective memberships of these synced groups over the tree: stale ones go, new
 * ones are added. Returns the users who lost a membership.
 */
export async function recomputeMemberships(trx: Db, connectionId: string, roots: string[]): Promise<string[]> {
  if (roots.length === 0) return [];
  const stale = await sql<{ user_id: string }>`delete from group_memberships m where m.connection_id = ${connectionId}::uuid and m.group_id in (${sql.join(roots)})
            and not ${memberThroughTree(connectionId, sql.ref('m.group_id'), sql.ref('m.user_id'))} returning m.user_id`.execute(trx);
  // Only memberships not there yet, in index order (a plain insert; one commit per connection runs at a time).
  const added = await sql`insert into group_memberships (connection_id, group_id, user_id)
            select distinct ${connectionId}::uuid, t.root, e.member_id from tree t
            join group_edges e on e.connection_id = ${connectionId}::uuid and e.group_id = t.group_id and e.member_type = 'user'
            join directory_users u on u.connection_id = ${connectionId}::uuid and u.user_id = e.member_id
            where t.root in (${sql.join(roots)})
              and not exists (select 1 from group_memberships m where m.connection_id = ${connectionId}::uuid and m.group_id = t.root and m.user_id = e.member_id)
            order by t.root, e.member_id`.execute(trx);
  await analyzeIfGrown(trx, 'group_memberships', added.numAffectedRows);
  return stale.rows.map((row) => row.user_id);
}

/**
 * For groups whose structure did not change, checks only the (group, user) pairs the run's
 * member changes and deleted users touch. Returns the users who lost a membership.
 */
export async function patchMembershipPairs(trx: Db, connectionId: string, runId: string, roots: string[]): Promise<string[]> {
  if (roots.length === 0) return [];
  await sql`create temporary table candidate_pairs on commit drop as
            select distinct t.root, s.member_id as user_id from sync_staged_members s join tree t on t.group_id = s.group_id
            where s.run_id = ${runId}::uuid and s.member_type = 'user' and t.root in (${sql.join(roots)})
            union
            select m.group_id, m.user_id from group_memberships m join sync_staged_users s on s.run_id = ${runId}::uuid and s.deleted and s.user_id = m.user_id
            where m.connection_id = ${connectionId}::uuid and m.group_id in (${sql.join(roots)})`.execute(trx);
  const lost = await sql<{ user_id: string }>`delete from group_memberships m using candidate_pairs c
            where m.connection_id = ${connectionId}::uuid and m.group_id = c.root and m.user_id = c.user_id
            and not ${memberThroughTree(connectionId, sql.ref('c.root'), sql.ref('c.user_id'))} returning m.user_id`.execute(trx);
  await sql`insert into group_memberships (connection_id, group_id, user_id)
            select ${connectionId}::uuid, c.root, c.user_id from candidate_pairs c
            join directory_users u on u.connection_id = ${connectionId}::uuid and u.user_id = c.user_id
            where ${memberThroughTree(connectionId, sql.ref('c.root'), sql.ref('c.user_id'))}
            on conflict do nothing`.execute(trx);
  return lost.rows.map((row) => row.user_id);
}

/** Groups no longer synced drop their memberships; returns the users who had one. */
export async function dropUnsyncedMemberships(trx: Db, connectionId: string, syncedIds: string[]): Promise<string[]> {
  const rows = await trx
    .deleteFrom('group_memberships')
    .where('connection_id', '=', connectionId)
    .where((eb) => (syncedIds.length === 0 ? eb.lit(true) : eb('group_id', 'not in', syncedIds)))
    .returning('user_id')
    .execute();
  return rows.map((row) => row.user_id);
}

/** Member counts of these groups, 0 for a group without members. */
export async function membershipCounts(trx: Db, connectionId: string, groupIds: string[]): Promise<Map<string, number>> {
  const counts = new Map(groupIds.map((groupId) => [groupId, 0]));
  if (groupIds.length === 0) return counts;
  const rows = await trx.selectFrom('group_memberships').select(['group_id', (eb) => eb.fn.countAll<number>().as('n')]).where('connection_id', '=', connectionId).where('group_id', 'in', groupIds).groupBy('group_id').execute();
  for (const row of rows) counts.set(row.group_id, Number(row.n));
  return counts;
}

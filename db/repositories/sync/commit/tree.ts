import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../schema.js';

type Db = Kysely<Database>;

/**
 * The groups each synced group contains, itself included, over the stored direct memberships:
 * a temporary table `tree(root, group_id)` for this transaction, and the same as a map.
 */
export async function buildTree(trx: Db, connectionId: string): Promise<Map<string, Set<string>>> {
  await sql`drop table if exists tree`.execute(trx);
  await sql`create temporary table tree on commit drop as
    with recursive walk(root, group_id) as (
      select group_id, group_id from synced_groups where connection_id = ${connectionId}::uuid
      union
      select walk.root, e.member_id from walk
      join group_edges e on e.connection_id = ${connectionId}::uuid and e.group_id = walk.group_id and e.member_type = 'group'
    ) select root, group_id from walk`.execute(trx);
  await sql`create index on tree (group_id)`.execute(trx);
  await sql`analyze tree`.execute(trx);
  const rows = await sql<{ root: string; group_id: string }>`select root, group_id from tree`.execute(trx);
  const tree = new Map<string, Set<string>>();
  for (const row of rows.rows) {
    const groups = tree.get(row.root) ?? new Set<string>();
    groups.add(row.group_id);
    tree.set(row.root, groups);
  }
  return tree;
}

/** A user is in a synced group when one of the groups it contains has the user as a direct member. */
export const memberThroughTree = (connectionId: string, root: ReturnType<typeof sql.ref>, user: ReturnType<typeof sql.ref>) => sql`exists (
  select 1 from tree t join group_edges e on e.connection_id = ${connectionId}::uuid and e.group_id = t.group_id and e.member_id = ${user} and e.member_type = 'user'
  where t.root = ${root})`;

/** Rows one commit may write to a table before its planner statistics are taken again. */
const ANALYZE_AFTER_ROWS = 10_000n;

/**
 * A tenant's first sync fills the tables in this very transaction, so the planner, still
 * counting the rows from before, would read 300,000 memberships by one index probe each (seven
 * seconds instead of one): after writing many rows, the statistics are taken again at once
 * (sampled, a fraction of a second). Its lock, held to the end of the transaction, stops only
 * other ANALYZEs and VACUUMs of the table.
 */
export async function analyzeIfGrown(trx: Db, table: 'group_edges' | 'directory_users' | 'group_memberships', written: bigint | undefined): Promise<void> {
  if ((written ?? 0n) >= ANALYZE_AFTER_ROWS) await sql`analyze ${sql.table(table)}`.execute(trx);
}

/** Direct memberships of groups no synced group contains any more, and those groups. */
export async function pruneOutsideTree(trx: Db, connectionId: string): Promise<void> {
  await sql`delete from group_edges e where e.connection_id = ${connectionId}::uuid and not exists (select 1 from tree t where t.group_id = e.group_id)`.execute(trx);
  await sql`delete from directory_groups g where g.connection_id = ${connectionId}::uuid and not exists (select 1 from tree t where t.group_id = g.group_id)`.execute(trx);
}

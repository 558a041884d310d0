import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../schema.js';
import { analyzeIfGrown } from './tree.js';

type Db = Kysely<Database>;

/**
 * Step 1 of a commit, the direct memberships. Deleted users leave every group; groups read in
 * full are replaced; delta changes patch the rest; deleted groups (past their grace, if synced)
 * lose theirs. Returns the groups whose structure (the groups nested in them) may have changed.
 */
export async function applyEdges(trx: Db, connectionId: string, runId: string, { replaced, dropped, delta }: { replaced: string[]; dropped: string[]; delta: boolean }): Promise<Set<string>> {
  await sql`delete from group_edges e using sync_staged_users s
            where s.run_id = ${runId}::uuid and s.deleted and e.connection_id = ${connectionId}::uuid and e.member_id = s.user_id`.execute(trx);
  const cleared = [...replaced, ...dropped];
  if (cleared.length > 0) await trx.deleteFrom('group_edges').where('connection_id', '=', connectionId).where('group_id', 'in', cleared).execute();
  if (replaced.length > 0) {
    // Their old edges are gone and staging holds each edge once: no conflict to check for. In
    // index order, an insert touches each index page once.
    const edges = await sql`insert into group_edges (connection_id, group_id, member_id, member_type)
              select ${connectionId}::uuid, group_id, member_id, member_type from sync_staged_members
              where run_id = ${runId}::uuid and not removed and group_id in (${sql.join(replaced)})
              order by group_id, member_id`.execute(trx);
    await analyzeIfGrown(trx, 'group_edges', edges.numAffectedRows);
  }
  const structural = new Set(cleared);
  if (!delta) return structural;
  // A removed member that was a nested group changes the structure, whatever type the change names.
  const groupEdgeChanges = await sql<{ group_id: string }>`
    select distinct s.group_id from sync_staged_members s
    where s.run_id = ${runId}::uuid and (s.member_type = 'group'
      or exists (select 1 from group_edges e where e.connection_id = ${connectionId}::uuid and e.group_id = s.group_id and e.member_id = s.member_id and e.member_type = 'group'))`.execute(trx);
  for (const row of groupEdgeChanges.rows) structural.add(row.group_id);
  const patched = sql`s.group_id not in (${sql.join([...cleared, '00000000-0000-0000-0000-000000000000'])})`;
  await sql`delete from group_edges e using sync_staged_members s
            where s.run_id = ${runId}::uuid and s.removed and ${patched} and e.connection_id = ${connectionId}::uuid and e.group_id = s.group_id and e.member_id = s.member_id`.execute(trx);
  await sql`insert into group_edges (connection_id, group_id, member_id, member_type)
            select ${connectionId}::uuid, s.group_id, s.member_id, s.member_type from sync_staged_members s
            where s.run_id = ${runId}::uuid and not s.removed and ${patched}
            on conflict (connection_id, group_id, member_id) do update set member_type = excluded.member_type`.execute(trx);
  return structural;
}

import { createHash } from 'node:crypto';
import { metricMeter } from '@temporalio/activity';
import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/client.js';
import { refreshDirectoryStats } from '../db/repositories/directory.js';
import type { Database } from '../db/schema.js';
import type { CommitOptions, CommitResult } from '../workflows/sync/messages.js';

type Trx = Transaction<Database>;

const REMOVED_REASON = 'In no synced group';

/**
 * The groups each synced group contains, itself included, over the stored direct memberships:
 * a temporary table `tree(root, group_id)` for this transaction.
 */
async function buildTree(trx: Trx, connectionId: string): Promise<Map<string, Set<string>>> {
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

/** A held set's digest: what the pane shows and a confirmation names (sorted ids, SHA-256). */
export function digestOf(userIds: string[]): string {
  return createHash('sha256').update([...userIds].sort().join(',')).digest('base64url');
}

/** The held set an admin confirmed, if it is still the one held (same run, same digest); else nobody. */
async function confirmedSet(trx: Trx, connectionId: string, confirmed: CommitOptions['confirmed']): Promise<Set<string>> {
  if (!confirmed) return new Set();
  const rows = await trx.selectFrom('pending_removals').select('user_id').where('connection_id', '=', connectionId).where('run_id', '=', confirmed.runId).execute();
  const ids = rows.map((row) => row.user_id);
  return digestOf(ids) === confirmed.digest ? new Set(ids) : new Set();
}

/** Records the set this run holds back (replacing any earlier one); an empty set clears it. */
async function holdForConfirmation(trx: Trx, connectionId: string, runId: string, userIds: string[]): Promise<void> {
  await trx.deleteFrom('pending_removals').where('connection_id', '=', connectionId).execute();
  if (userIds.length === 0) return;
  await sql`insert into pending_removals (connection_id, run_id, user_id) select ${connectionId}::uuid, ${runId}::uuid, unnest(${userIds}::uuid[])`.execute(trx);
}

/** Rows one commit may write to a table before its planner statistics are taken again. */
const ANALYZE_AFTER_ROWS = 10_000n;

/**
 * A tenant's first sync fills the tables in this very transaction, so the planner, still
 * counting the rows from before, would read 300,000 memberships by one index probe each (seven
 * seconds instead of one): after writing many rows, the statistics are taken again at once
 * (sampled, a fraction of a second). Its lock, held to the end of the transaction, stops only
 * other ANALYZEs and VACUUMs of the table.
 */
async function analyzeIfGrown(trx: Trx, table: 'group_edges' | 'directory_users' | 'group_memberships', written: bigint | undefined): Promise<void> {
  if ((written ?? 0n) >= ANALYZE_AFTER_ROWS) await sql`analyze ${sql.table(table)}`.execute(trx);
}

/** A user is in a synced group when one of the groups it contains has the user as a direct member. */
const memberThroughTree = (connectionId: string, root: ReturnType<typeof sql.ref>, user: ReturnType<typeof sql.ref>) => sql`exists (
  select 1 from tree t join group_edges e on e.connection_id = ${connectionId}::uuid and e.group_id = t.group_id and e.member_id = ${user} and e.member_type = 'user'
  where t.root = ${root})`;

/**
 * Applies a run in one transaction. A full run replaces the direct memberships of every group
 * it read; a delta run patches them with the changes it read. Effective memberships follow,
 * recomputed only where something changed. Users are upserted by Entra object id. Nobody is
 * removed unless every synced group (and every group inside it) was read; the mass-deletion
 * guard holds back larger removals until an admin confirms. Committing twice changes nothing.
 */
export async function commitSyncRun(db: Db, connectionId: string, runId: string, options: CommitOptions): Promise<CommitResult> {
  return db.transaction().execute(async (trx) => {
    // A delta read that failed early may not have opened its run.
    if (options.readFailed) await trx.insertInto('sync_runs').values({ id: runId, connection_id: connectionId, trigger: options.trigger, kind: 'delta' }).onConflict((conflict) => conflict.column('id').doNothing()).execute();
    const run = await trx.selectFrom('sync_runs').selectAll().where('id', '=', runId).forUpdate().executeTakeFirstOrThrow();
    if (run.finished_at !== null) return { usersAdded: run.users_added, usersUpdated: run.users_updated, usersRemoved: run.users_removed, groupsOk: run.groups_ok, groupsFailed: run.groups_failed, pendingRemovals: 0, status: run.status as CommitResult['status'] };
    const now = new Date();
    const synced = await trx.selectFrom('synced_groups').select(['group_id', 'missing_since', 'last_synced_at']).where('connection_id', '=', connectionId).execute();
    const syncedIds = synced.map((group) => group.group_id);

    if (options.readFailed) return finish(trx, { usersAdded: 0, usersUpdated: 0, usersRemoved: 0, groupsOk: 0, groupsFailed: synced.length, pendingRemovals: 0, status: 'partial' });

    const delta = run.kind === 'delta';
    // 'ok': every group was read and its removals done, so every active user had a membership then.
    const previous = await trx.selectFrom('sync_runs').select('status').where('connection_id', '=', connectionId).where('id', '!=', runId).where('finished_at', 'is not', null).orderBy('started_at', 'desc').limit(1).executeTakeFirst();
    // After a clean commit every active user was in a synced group, so a delta commit need only
    // look, for removals, at the users who lose a membership in it. null: look at every user (a
    // full run, a run after trouble, a user arrived, or a group left the selection).
    let lostMembership: Set<string> | null = delta && previous?.status === 'ok' ? new Set() : null;
    const noteLost = (rows: Array<{ user_id: string }>) => {
      if (lostMembership === null) return;
      for (const row of rows) lostMembership.add(row.user_id);
    };
    const outcomes = new Map((await trx.selectFrom('sync_run_groups').selectAll().where('run_id', '=', runId).execute()).map((row) => [row.group_id, row]));
    const known = new Map((await trx.selectFrom('directory_groups').select(['group_id', 'display_name']).where('connection_id', '=', connectionId).execute()).map((row) => [row.group_id, row.display_name]));
    const replaced = [...outcomes.values()].filter((row) => row.replaced && row.status === 'ok').map((row) => row.group_id);
    const graceOver = (missingSince: Date | null) => missingSince !== null && now.getTime() - missingSince.getTime() >= options.missingGraceMs;
    // A synced group deleted in Entra stays "missing" until it returns, whether or not a delta mentions it again.
    const missingSynced = new Map(synced.flatMap((group) => (outcomes.get(group.group_id)?.status === 'missing' || (delta && group.missing_since !== null && !outcomes.has(group.group_id)) ? [[group.group_id, group.missing_since]] : [])));
    const dropped = [
      ...[...outcomes.values()].filter((row) => row.status === 'missing' && !missingSynced.has(row.group_id)).map((row) => row.group_id), // nested groups deleted
      ...[...missingSynced].filter(([, since]) => graceOver(since)).map(([groupId]) => groupId),
    ];

    // 1. Direct memberships. Deleted users leave every group; groups read in full are replaced;
    //    delta changes patch the rest; deleted groups (past their grace, if synced) lose theirs.
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
    // A removed member that was a nested group changes the structure, whatever type the change names.
    const structural = new Set([...replaced, ...dropped]);
    if (delta) {
      const groupEdgeChanges = await sql<{ group_id: string }>`
        select distinct s.group_id from sync_staged_members s
        where s.run_id = ${runId}::uuid and (s.member_type = 'group'
          or exists (select 1 from group_edges e where e.connection_id = ${connectionId}::uuid and e.group_id = s.group_id and e.member_id = s.member_id and e.member_type = 'group'))`.execute(trx);
      for (const row of groupEdgeChanges.rows) structural.add(row.group_id);
    }
    const patched = delta ? sql`s.group_id not in (${sql.join([...cleared, '00000000-0000-0000-0000-000000000000'])})` : sql`false`;
    await sql`delete from group_edges e using sync_staged_members s
              where s.run_id = ${runId}::uuid and s.removed and ${patched} and e.connection_id = ${connectionId}::uuid and e.group_id = s.group_id and e.member_id = s.member_id`.execute(trx);
    await sql`insert into group_edges (connection_id, group_id, member_id, member_type)
              select ${connectionId}::uuid, s.group_id, s.member_id, s.member_type from sync_staged_members s
              where s.run_id = ${runId}::uuid and not s.removed and ${patched}
              on conflict (connection_id, group_id, member_id) do update set member_type = excluded.member_type`.execute(trx);

    // 2. Users: properties of everyone Hook knows, and new users who are members of some group.
    const upserted = await sql<{ inserted: boolean }>`
      insert into directory_users as u (connection_id, user_id, display_name, mail, user_principal_name, user_type, account_enabled, is_guest, is_shared_mailbox, email_domain)
      select ${connectionId}::uuid, s.user_id, s.display_name, s.mail, s.user_principal_name, s.user_type, s.account_enabled, s.is_guest,
             coalesce(s.account_enabled = false and s.mail is not null, false),
             lower(split_part(coalesce(s.mail, s.user_principal_name), '@', 2))
      from sync_staged_users s
      where s.run_id = ${runId}::uuid and not s.deleted
        and (exists (select 1 from directory_users d where d.connection_id = ${connectionId}::uuid and d.user_id = s.user_id)
             or exists (select 1 from group_edges e where e.connection_id = ${connectionId}::uuid and e.member_id = s.user_id))
      on conflict (connection_id, user_id) do update set
        display_name = excluded.display_name, mail = excluded.mail, user_principal_name = excluded.user_principal_name,
        user_type = excluded.user_type, account_enabled = excluded.account_enabled, is_guest = excluded.is_guest,
        is_shared_mailbox = excluded.is_shared_mailbox, email_domain = excluded.email_domain, updated_at = now()
      where (u.display_name, u.mail, u.user_principal_name, u.user_type, u.account_enabled)
        is distinct from (excluded.display_name, excluded.mail, excluded.user_principal_name, excluded.user_type, excluded.account_enabled)
      returning (xmax = 0) as inserted`.execute(trx);
    await analyzeIfGrown(trx, 'directory_users', BigInt(upserted.rows.length));
    let usersAdded = upserted.rows.filter((row) => row.inserted).length;
    if (usersAdded > 0) lostMembership = null; // a new user may be in no synced group yet
    const usersUpdated = upserted.rows.length - usersAdded;

    // 3. Which synced groups can be trusted this run: every group inside them was read (a full
    //    run must have read each; a delta run knows each from before) and none failed.
    const tree = await buildTree(trx, connectionId);
    const readOk = (groupId: string) => {
      const outcome = outcomes.get(groupId);
      if (outcome) return outcome.status === 'ok' || (outcome.status === 'missing' && !missingSynced.has(groupId));
      return delta && known.has(groupId);
    };
    const held = new Set(
      syncedIds.filter((root) => {
        if (missingSynced.has(root)) return !graceOver(missingSynced.get(root) ?? null);
        return [...(tree.get(root) ?? [root])].some((groupId) => !readOk(groupId));
      }),
    );
    const trusted = syncedIds.filter((root) => !held.has(root));

    // 4. Effective memberships. A full run recomputes every trusted group; a delta run recomputes
    //    groups whose structure changed, and checks single (group, user) pairs for member changes.
    // A group never synced before (newly chosen, or held until now) has no memberships to patch.
    const fresh = new Set(synced.filter((group) => group.last_synced_at === null).map((group) => group.group_id));
    const recompute = delta ? trusted.filter((root) => fresh.has(root) || [...(tree.get(root) ?? [])].some((groupId) => structural.has(groupId))) : trusted;
    const pairRoots = delta ? trusted.filter((root) => !recompute.includes(root)) : [];
    if (recompute.length > 0) {
      const stale = await sql<{ user_id: string }>`delete from group_memberships m where m.connection_id = ${connectionId}::uuid and m.group_id in (${sql.join(recompute)})
                and not ${memberThroughTree(connectionId, sql.ref('m.group_id'), sql.ref('m.user_id'))} returning m.user_id`.execute(trx);
      noteLost(stale.rows);
      // Only memberships not there yet, in index order (a plain insert; one commit per connection runs at a time).
      const added = await sql`insert into group_memberships (connection_id, group_id, user_id)
                select distinct ${connectionId}::uuid, t.root, e.member_id from tree t
                join group_edges e on e.connection_id = ${connectionId}::uuid and e.group_id = t.group_id and e.member_type = 'user'
                join directory_users u on u.connection_id = ${connectionId}::uuid and u.user_id = e.member_id
                where t.root in (${sql.join(recompute)})
                  and not exists (select 1 from group_memberships m where m.connection_id = ${connectionId}::uuid and m.group_id = t.root and m.user_id = e.member_id)
                order by t.root, e.member_id`.execute(trx);
      await analyzeIfGrown(trx, 'group_memberships', added.numAffectedRows);
    }
    if (pairRoots.length > 0) {
      await sql`create temporary table candidate_pairs on commit drop as
                select distinct t.root, s.member_id as user_id from sync_staged_members s join tree t on t.group_id = s.group_id
                where s.run_id = ${runId}::uuid and s.member_type = 'user' and t.root in (${sql.join(pairRoots)})
                union
                select m.group_id, m.user_id from group_memberships m join sync_staged_users s on s.run_id = ${runId}::uuid and s.deleted and s.user_id = m.user_id
                where m.connection_id = ${connectionId}::uuid and m.group_id in (${sql.join(pairRoots)})`.execute(trx);
      const lost = await sql<{ user_id: string }>`delete from group_memberships m using candidate_pairs c
                where m.connection_id = ${connectionId}::uuid and m.group_id = c.root and m.user_id = c.user_id
                and not ${memberThroughTree(connectionId, sql.ref('c.root'), sql.ref('c.user_id'))} returning m.user_id`.execute(trx);
      noteLost(lost.rows);
      await sql`insert into group_memberships (connection_id, group_id, user_id)
                select ${connectionId}::uuid, c.root, c.user_id from candidate_pairs c
                join directory_users u on u.connection_id = ${connectionId}::uuid and u.user_id = c.user_id
                where ${memberThroughTree(connectionId, sql.ref('c.root'), sql.ref('c.user_id'))}
                on conflict do nothing`.execute(trx);
    }

    // Groups no longer synced drop their memberships; groups no synced group contains any more
    // drop their direct members. Their users go below unless another group has them.
    const unsynced = await trx
      .deleteFrom('group_memberships')
      .where('connection_id', '=', connectionId)
      .where((eb) => (syncedIds.length === 0 ? eb.lit(true) : eb('group_id', 'not in', syncedIds)))
      .returning('user_id')
      .execute();
    if (unsynced.length > 0) lostMembership = null; // a group left the selection: look at everyone
    // Members of groups the admin unsynced: the preview showed them and the admin saved, so their
    // removal is the admin's decision, not a change in Entra for the guard to question.
    const leftWithUnsyncedGroup = new Set(unsynced.map((row) => row.user_id));
    await sql`delete from group_edges e where e.connection_id = ${connectionId}::uuid and not exists (select 1 from tree t where t.group_id = e.group_id)`.execute(trx);
    await sql`delete from directory_groups g where g.connection_id = ${connectionId}::uuid and not exists (select 1 from tree t where t.group_id = g.group_id)`.execute(trx);

    // A user who is a member again comes back.
    const restored = await sql`update directory_users u set removed_at = null, removed_reason = null, updated_at = now()
      where u.connection_id = ${connectionId}::uuid and u.removed_at is not null
      and exists (select 1 from group_memberships m where m.connection_id = u.connection_id and m.user_id = u.user_id)`.execute(trx);
    usersAdded += Number(restored.numAffectedRows ?? 0);

    // 5. Removals: active users in no synced group any more, only when every group was read.
    const onlyThese = lostMembership === null ? null : [...lostMembership];
    const candidates =
      onlyThese?.length === 0
        ? []
        : await trx
            .selectFrom('directory_users as u')
            .select('u.user_id')
            .where('u.connection_id', '=', connectionId)
            .where('u.removed_at', 'is', null)
            .$if(onlyThese !== null, (query) => query.where('u.user_id', '=', sql<string>`any(${onlyThese}::uuid[])`))
            .where((eb) => eb.not(eb.exists(eb.selectFrom('group_memberships as m').select('m.user_id').whereRef('m.connection_id', '=', 'u.connection_id').whereRef('m.user_id', '=', 'u.user_id'))))
            .execute();
    let usersRemoved = 0;
    let pendingRemovals = 0;
    let status: CommitResult['status'] = held.size > 0 ? 'partial' : 'ok';
    let pendingDigest: string | undefined;
    let holding: string[] = [];
    if (candidates.length > 0 && held.size === 0) {
      const active = await trx.selectFrom('directory_users').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', connectionId).where('removed_at', 'is', null).executeTakeFirstOrThrow();
      const byAdmin = candidates.filter((row) => leftWithUnsyncedGroup.has(row.user_id));
      const byEntra = candidates.filter((row) => !leftWithUnsyncedGroup.has(row.user_id));
      // What an admin confirmed goes; of the rest, the guard questions what changed in Entra
      // (the admin's own unsync goes through: it was seen and saved in the preview).
      const confirmed = await confirmedSet(trx, connectionId, options.confirmed);
      const unconfirmed = byEntra.filter((row) => !confirmed.has(row.user_id));
      const share = unconfirmed.length / Math.max(1, Number(active.n));
      // In a cycle that applies a confirmation, anything beyond the confirmed set waits for its own.
      const hold = unconfirmed.length > 0 && (options.confirmed !== undefined || share > options.maxRemovalShare) && !options.confirmRemovals;
      if (hold) {
        pendingRemovals = unconfirmed.length;
        pendingDigest = digestOf(unconfirmed.map((row) => row.user_id));
        status = 'awaiting_confirmation';
      }
      const going = [...byAdmin, ...byEntra.filter((row) => confirmed.has(row.user_id)), ...(hold ? [] : unconfirmed)];
      if (going.length > 0) {
        const removed = await trx
          .updateTable('directory_users')
          .set({ removed_at: now, removed_reason: REMOVED_REASON, updated_at: now })
          .where('connection_id', '=', connectionId)
          .where('user_id', 'in', going.map((row) => row.user_id))
          .executeTakeFirst();
        usersRemoved = Number(removed.numUpdatedRows);
      }
      if (hold) holding = unconfirmed.map((row) => row.user_id);
    }
    // A cycle that read everything decides the held set anew (an empty one clears it).
    if (held.size === 0) await holdForConfirmation(trx, connectionId, runId, holding);

    if (usersAdded + usersUpdated + usersRemoved > 0) await refreshDirectoryStats(trx, connectionId);

    // 6. What the Groups tab shows: names, counts, errors, and groups read in full.
    const countsFor = new Set([...recompute, ...pairRoots]);
    const counts = countsFor.size === 0 ? [] : await trx.selectFrom('group_memberships').select(['group_id', (eb) => eb.fn.countAll<number>().as('n')]).where('connection_id', '=', connectionId).where('group_id', 'in', [...countsFor]).groupBy('group_id').execute();
    const countOf = new Map(counts.map((row) => [row.group_id, Number(row.n)]));
    const updates = syncedIds.map((groupId) => {
      const outcome = outcomes.get(groupId);
      const failure = [...(tree.get(groupId) ?? [])].map((id) => outcomes.get(id)).find((row) => row?.status === 'failed');
      const missing = missingSynced.has(groupId);
      return {
        groupId,
        name: outcome?.display_name ?? (fresh.has(groupId) ? (known.get(groupId) ?? null) : null),
        type: outcome?.group_type ?? null,
        count: countsFor.has(groupId) ? (countOf.get(groupId) ?? 0) : null,
        ok: !held.has(groupId) && !missing,
        error: missing ? (outcome?.error ?? 'The group no longer exists in Entra.') : failure ? (failure.group_id === groupId ? failure.error : `A group inside it could not be read: ${failure.error ?? 'failed'}`) : null,
        missing,
      };
    });
    if (updates.length > 0) {
      const values = updates.map((u) => sql`(${u.groupId}::uuid, ${u.name}::text, ${u.type}::text, ${u.count}::integer, ${u.ok}::boolean, ${u.error}::text, ${u.missing}::boolean)`);
      await sql`update synced_groups g set
          display_name = coalesce(v.name, g.display_name),
          group_type = coalesce(v.type, g.group_type),
          member_count = coalesce(v.count, g.member_count),
          last_synced_at = case when v.ok then ${now} else g.last_synced_at end,
          last_error = case when v.ok then null else coalesce(v.error, g.last_error) end,
          missing_since = case when v.missing then coalesce(g.missing_since, ${now}) when v.ok then null else g.missing_since end
        from (values ${sql.join(values)}) as v(group_id, name, type, count, ok, error, missing)
        where g.connection_id = ${connectionId}::uuid and g.group_id = v.group_id`.execute(trx);
    }
    // Names a delta saw (every group whose members changed comes with its name): one statement.
    const named = [...outcomes.values()].filter((row) => !row.replaced && row.status === 'ok' && row.display_name);
    if (named.length > 0) {
      await sql`update directory_groups g set display_name = v.name
        from unnest(${named.map((row) => row.group_id)}::uuid[], ${named.map((row) => row.display_name)}::text[]) as v(group_id, name)
        where g.connection_id = ${connectionId}::uuid and g.group_id = v.group_id and g.display_name is distinct from v.name`.execute(trx);
    }
    const readInFull = [...outcomes.values()].filter((row) => row.replaced && row.status === 'ok');
    if (readInFull.length > 0) {
      await trx
        .insertInto('directory_groups')
        .values(readInFull.map((row) => ({ connection_id: connectionId, group_id: row.group_id, display_name: row.display_name, hidden_membership: row.hidden_membership, read_at: now })))
        .onConflict((conflict) => conflict.columns(['connection_id', 'group_id']).doUpdateSet((eb) => ({ display_name: eb.ref('excluded.display_name'), hidden_membership: eb.ref('excluded.hidden_membership'), read_at: now })))
        .execute();
    }

    // 7. The next delta round starts where this run's read ended.
    if (run.groups_delta_link !== null && run.users_delta_link !== null) {
      await trx
        .updateTable('entra_connections')
        .set({ groups_delta_link: run.groups_delta_link, users_delta_link: run.users_delta_link, ...(delta ? {} : { last_full_sync_at: now }) })
        .where('id', '=', connectionId)
        .execute();
    }
    return finish(trx, { usersAdded, usersUpdated, usersRemoved, groupsOk: trusted.length, groupsFailed: held.size, pendingRemovals, ...(pendingDigest ? { pendingDigest } : {}), status });
  });

  async function finish(trx: Trx, result: CommitResult): Promise<CommitResult> {
    const now = new Date();
    const outcomes = await trx.selectFrom('sync_run_groups').select('graph_requests').where('run_id', '=', runId).execute();
    const run = await trx.selectFrom('sync_runs').select('graph_requests').where('id', '=', runId).executeTakeFirstOrThrow();
    const graphRequests = run.graph_requests + outcomes.reduce((sum, outcome) => sum + outcome.graph_requests, 0);
    await trx
      .updateTable('sync_runs')
      .set({ status: result.status, finished_at: now, users_added: result.usersAdded, users_updated: result.usersUpdated, users_removed: result.usersRemoved, groups_ok: result.groupsOk, groups_failed: result.groupsFailed, graph_requests: graphRequests, error: options.error ?? null })
      .where('id', '=', runId)
      .execute();
    await trx
      .updateTable('entra_connections')
      .set({
        sync_status: options.needsReconnect ? 'needs_reconnect' : result.status === 'awaiting_confirmation' ? 'awaiting_confirmation' : result.groupsFailed > 0 ? 'failing' : 'idle',
        // A disconnected connection stays so: only Connect brings it back.
        status: sql<'connected' | 'needs_reconnect' | 'disconnected'>`case when status = 'disconnected' then 'disconnected' else ${options.needsReconnect ? 'needs_reconnect' : 'connected'} end`,
        last_sync_at: now,
        pending_removals: result.pendingRemovals,
        pending_run_id: result.pendingDigest ? runId : null,
        pending_digest: result.pendingDigest ?? null,
      })
      .where('id', '=', connectionId)
      .execute();
    await trx.deleteFrom('sync_staged_members').where('run_id', '=', runId).execute();
    await trx.deleteFrom('sync_staged_users').where('run_id', '=', runId).execute();
    // Sync counters beside Temporal's own worker metrics (Prometheus, WORKER_METRICS_PORT).
    metricMeter.createCounter('hook_sync_users_added', 'users', 'Users added by sync runs').add(result.usersAdded);
    metricMeter.createCounter('hook_sync_users_removed', 'users', 'Users removed by sync runs').add(result.usersRemoved);
    metricMeter.createCounter('hook_sync_groups_failed', 'groups', 'Groups a sync run could not read').add(result.groupsFailed);
    metricMeter.createCounter('hook_sync_graph_requests', 'requests', 'Graph requests made by sync runs').add(graphRequests);
    return result;
  }
}

import { sql, type Kysely } from 'kysely';
import type { Database, SyncStatus } from '../../schema.js';

type Db = Kysely<Database>;

export interface DeltaLinks {
  groups: string;
  users: string;
}

/** Opens a run; idempotent, as the workflow chooses its id. */
export async function openRun(db: Db, run: { id: string; connectionId: string; trigger: string; kind: 'full' | 'delta' }): Promise<void> {
  await db.insertInto('sync_runs').values({ id: run.id, connection_id: run.connectionId, trigger: run.trigger, kind: run.kind }).onConflict((conflict) => conflict.column('id').doNothing()).execute();
}

/** A delta run that became a full read gives its id back: nothing of the delta attempt stays. */
export async function deleteRun(db: Db, runId: string): Promise<void> {
  await db.deleteFrom('sync_runs').where('id', '=', runId).execute();
}

/** The run, locked to the end of the transaction: one commit of it at a time. */
export async function lockRun(db: Db, runId: string) {
  return db.selectFrom('sync_runs').selectAll().where('id', '=', runId).forUpdate().executeTakeFirstOrThrow();
}

/** The status of the connection's last finished run before this one. */
export async function previousRunStatus(db: Db, connectionId: string, runId: string): Promise<string | undefined> {
  const row = await db.selectFrom('sync_runs').select('status').where('connection_id', '=', connectionId).where('id', '!=', runId).where('finished_at', 'is not', null).orderBy('started_at', 'desc').limit(1).executeTakeFirst();
  return row?.status;
}

export async function runDeltaLinks(db: Db, runId: string): Promise<DeltaLinks | undefined> {
  const run = await db.selectFrom('sync_runs').select(['groups_delta_link', 'users_delta_link']).where('id', '=', runId).executeTakeFirstOrThrow();
  return run.groups_delta_link !== null && run.users_delta_link !== null ? { groups: run.groups_delta_link, users: run.users_delta_link } : undefined;
}

export async function setRunDeltaLinks(db: Db, runId: string, links: DeltaLinks, graphRequests?: number): Promise<void> {
  await db.updateTable('sync_runs').set({ groups_delta_link: links.groups, users_delta_link: links.users, ...(graphRequests === undefined ? {} : { graph_requests: graphRequests }) }).where('id', '=', runId).execute();
}

/** Where the connection's next delta round starts; absent until a full read stored links. */
export async function connectionDeltaLinks(db: Db, connectionId: string): Promise<DeltaLinks | undefined> {
  const row = await db.selectFrom('entra_connections').select(['groups_delta_link', 'users_delta_link']).where('id', '=', connectionId).executeTakeFirstOrThrow();
  return row.groups_delta_link !== null && row.users_delta_link !== null ? { groups: row.groups_delta_link, users: row.users_delta_link } : undefined;
}

export async function markSyncRunning(db: Db, connectionId: string): Promise<void> {
  await db.updateTable('entra_connections').set({ sync_status: 'running' }).where('id', '=', connectionId).where('sync_status', '!=', 'needs_reconnect').execute();
}

export async function syncedGroupIds(db: Db, connectionId: string): Promise<string[]> {
  const rows = await db.selectFrom('synced_groups').select('group_id').where('connection_id', '=', connectionId).orderBy('group_id').execute();
  return rows.map((row) => row.group_id);
}

/**
 * What a delta round needs to know from before: the synced groups, the groups they are known to
 * contain, the groups read in full before and which of those hide their membership.
 */
export async function deltaScope(db: Db, connectionId: string) {
  const [synced, nested, known] = await Promise.all([
    syncedGroupIds(db, connectionId),
    db.selectFrom('group_edges').select('member_id').distinct().where('connection_id', '=', connectionId).where('member_type', '=', 'group').execute(),
    db.selectFrom('directory_groups').select(['group_id', 'hidden_membership']).where('connection_id', '=', connectionId).execute(),
  ]);
  return {
    synced,
    contained: [...synced, ...nested.map((row) => row.member_id)],
    readBefore: new Set(known.map((row) => row.group_id)),
    hidden: new Set(known.filter((row) => row.hidden_membership).map((row) => row.group_id)),
  };
}

export interface RunTotals {
  status: string;
  usersAdded: number;
  usersUpdated: number;
  usersRemoved: number;
  groupsOk: number;
  groupsFailed: number;
}

/** Closes a run with its totals; returns its Graph requests (the run's own and its groups'). */
export async function finishRun(trx: Db, runId: string, totals: RunTotals, error: string | null, now: Date): Promise<number> {
  const groups = await trx.selectFrom('sync_run_groups').select('graph_requests').where('run_id', '=', runId).execute();
  const run = await trx.selectFrom('sync_runs').select('graph_requests').where('id', '=', runId).executeTakeFirstOrThrow();
  const graphRequests = run.graph_requests + groups.reduce((sum, group) => sum + group.graph_requests, 0);
  await trx
    .updateTable('sync_runs')
    .set({ status: totals.status, finished_at: now, users_added: totals.usersAdded, users_updated: totals.usersUpdated, users_removed: totals.usersRemoved, groups_ok: totals.groupsOk, groups_failed: totals.groupsFailed, graph_requests: graphRequests, error })
    .where('id', '=', runId)
    .execute();
  return graphRequests;
}

/** The connection after a cycle: its sync status, whether it must be reconnected, and the removals it holds. */
export async function recordCycle(
  trx: Db,
  connectionId: string,
  cycle: { syncStatus: SyncStatus; needsReconnect: boolean; pendingRemovals: number; pending?: { runId: string; digest: string } },
  now: Date,
): Promise<void> {
  await trx
    .updateTable('entra_connections')
    .set({
      sync_status: cycle.syncStatus,
      // A disconnected connection stays so: only Connect brings it back.
      status: sql<'connected' | 'needs_reconnect' | 'disconnected'>`case when status = 'disconnected' then 'disconnected' else ${cycle.needsReconnect ? 'needs_reconnect' : 'connected'} end`,
      last_sync_at: now,
      pending_removals: cycle.pendingRemovals,
      pending_run_id: cycle.pending?.runId ?? null,
      pending_digest: cycle.pending?.digest ?? null,
    })
    .where('id', '=', connectionId)
    .execute();
}

/** After a run that read everything, the next delta round starts where its read ended. */
export async function advanceDeltaLinks(trx: Db, connectionId: string, links: DeltaLinks, { full, now }: { full: boolean; now: Date }): Promise<void> {
  await trx
    .updateTable('entra_connections')
    .set({ groups_delta_link: links.groups, users_delta_link: links.users, ...(full ? { last_full_sync_at: now } : {}) })
    .where('id', '=', connectionId)
    .execute();
}

import { activityInfo, ApplicationFailure, heartbeat, metricMeter } from '@temporalio/activity';
import type { Client } from '@microsoft/microsoft-graph-client';
import { sql } from 'kysely';
import type { Db } from '../db/client.js';
import { disconnectConnection } from '../db/repositories/directory.js';
import { describeFailure, FailureType } from '../workflows/failures.js';
import type { DeltaReadResult, GroupOutcome } from '../workflows/sync/messages.js';
import type { EntraClients } from './graph/clients.js';
import { isHiddenMembership, mayReadHiddenMembers } from './graph/token-roles.js';
import { groupSchema, groupType, GROUP_SELECT } from './graph/groups.js';
import { DeltaExpired, directMembersPage, followDelta, groupDeltaSchema, latestDeltaLinks, userDeltaSchema, usersById, type Member } from './graph/members.js';
import { isGuest, type GraphUser } from './graph/users.js';
import { commitSyncRun } from './sync-commit.js';

/**
 * Heartbeats `details()` at half the heartbeat timeout while `work` runs, so an activity that is
 * waiting out Graph's Retry-After (up to ten times for one page) is not taken for a dead one; a
 * worker that really dies stops heartbeating and its activity moves elsewhere.
 */
async function keepHeartbeating<T>(details: () => unknown, work: () => Promise<T>): Promise<T> {
  const every = Math.max(500, (activityInfo().heartbeatTimeoutMs ?? 60_000) / 2);
  const timer = setInterval(() => heartbeat(details()), every);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** Runs whose staged users one process remembers (a run's list is dropped when it is the oldest). */
const STAGED_RUNS_REMEMBERED = 16;

/** Groups one batch activity reads at the same time. */
const READS_PER_BATCH = 3;

interface BatchProgress {
  done: Record<string, GroupOutcome>;
  cursors: Record<string, Cursor>;
}

interface Cursor {
  nextLink?: string;
  pages: number;
  members: number;
  requests: number;
  nested: string[];
}

const MISSING = 'The group no longer exists in Entra.';
const NOT_YET_VISIBLE = 'A new member is not visible in Microsoft Graph yet (replication lag): the group is read again on the next sync.';
const HIDDEN = `Could not load members. ${describeFailure({ type: FailureType.HiddenMembership, message: '' })}`;

export function createSyncActivities({ db, entra }: { db: Db; entra: EntraClients }) {
  const mayReadHidden = (tenantId: string) => mayReadHiddenMembers(entra, tenantId);

  // Users this process has staged for a full read, by run: a user in three groups comes three
  // times with the same properties, and only the first needs writing. Only rows already written
  // are listed, so a skipped user is in the table. Two reads meeting a user at the same moment
  // both write it, and a run not listed here (another process, or evicted) writes its users
  // again: the conflict clause keeps one row, the same.
  const stagedByRun = new Map<string, Set<string>>();
  const stagedIn = (runId: string) => {
    let staged = stagedByRun.get(runId);
    if (staged === undefined) {
      if (stagedByRun.size >= STAGED_RUNS_REMEMBERED) stagedByRun.delete(stagedByRun.keys().next().value!);
      stagedByRun.set(runId, (staged = new Set()));
    }
    return staged;
  };

  /**
   * `latest`: a delta may list an object twice, and the later entry wins; the copies a full read
   * meets are the same, and the first is kept. Rows go as one array per column (`unnest`): one
   * statement of a few parameters instead of nine per user.
   */
  async function stageUsers(runId: string, users: GraphUser[], { deleted = false, latest = true } = {}) {
    const staged = latest ? undefined : stagedIn(runId);
    // In id order: reads staging the same users at the same time then lock them in one order (no deadlock).
    const byId = [...new Map(users.filter((user) => !staged?.has(user.id)).map((user) => [user.id, user])).values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (byId.length === 0) return;
    const column = <T>(value: (user: GraphUser) => T) => byId.map(value);
    const onConflict = latest
      ? sql`do update set display_name = excluded.display_name, mail = excluded.mail, user_principal_name = excluded.user_principal_name,
              user_type = excluded.user_type, account_enabled = excluded.account_enabled, is_guest = excluded.is_guest, deleted = excluded.deleted`
      : sql`do nothing`;
    await sql`insert into sync_staged_users (run_id, user_id, display_name, mail, user_principal_name, user_type, account_enabled, is_guest, deleted)
      select ${runId}::uuid, u.*, ${deleted}::boolean from unnest(
        ${column((user) => user.id)}::uuid[], ${column((user) => user.displayName ?? null)}::text[], ${column((user) => user.mail ?? null)}::text[],
        ${column((user) => user.userPrincipalName ?? null)}::text[], ${column((user) => user.userType ?? null)}::text[],
        ${column((user) => user.accountEnabled ?? null)}::boolean[], ${column(isGuest)}::boolean[]) as u
      on conflict (run_id, user_id) ${onConflict}`.execute(db);
    for (const user of byId) staged?.add(user.id);
  }

  async function stageEdges(runId: string, groupId: string, edges: Array<{ id: string; type: 'user' | 'group'; removed: boolean }>, { latest = true } = {}) {
    if (edges.length === 0) return;
    const unique = [...new Map(edges.map((edge) => [edge.id, edge])).values()];
    const onConflict = latest ? sql`do update set removed = excluded.removed, member_type = excluded.member_type` : sql`do nothing`;
    await sql`insert into sync_staged_members (run_id, group_id, member_id, member_type, removed)
      select ${runId}::uuid, ${groupId}::uuid, e.* from unnest(${unique.map((edge) => edge.id)}::uuid[], ${unique.map((edge) => edge.type)}::text[], ${unique.map((edge) => edge.removed)}::boolean[]) as e
      on conflict (run_id, group_id, member_id) ${onConflict}`.execute(db);
  }

  async function recordGroup(runId: string, outcome: GroupOutcome & { replaced?: boolean; hidden?: boolean }, requests: number) {
    const values = {
      status: outcome.status,
      display_name: outcome.displayName ?? null,
      group_type: outcome.groupType ?? null,
      error: outcome.error ?? null,
      graph_requests: requests,
      replaced: outcome.replaced ?? false,
      hidden_membership: outcome.hidden ?? false,
    };
    await db
      .insertInto('sync_run_groups')
      .values({ run_id: runId, group_id: outcome.groupId, ...values })
      .onConflict((conflict) => conflict.columns(['run_id', 'group_id']).doUpdateSet(values))
      .execute();
    return outcome;
  }

  /**
   * Reads one group in full: its name and visibility, then its direct members page by page
   * into the run's staging tables (users with their properties, nested groups as edges).
   * `cursor` lets a retried activity resume at the page it had reached.
   */
  async function readGroup(graph: Client, tenantId: string, runId: string, groupId: string, cursor: Cursor, onPage: (cursor: Cursor) => void): Promise<GroupOutcome> {
    let group;
    try {
      cursor.requests += 1;
      group = groupSchema.parse(await graph.api(`/groups/${groupId}`).select(GROUP_SELECT).get());
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return recordGroup(runId, { groupId, status: 'missing', error: MISSING }, cursor.requests);
      throw error;
    }
    // A read that starts over must not keep rows of an earlier, abandoned attempt.
    if (cursor.pages === 0) await db.deleteFrom('sync_staged_members').where('run_id', '=', runId).where('group_id', '=', groupId).execute();
    do {
      cursor.requests += 1;
      const page = await directMembersPage(graph, groupId, cursor.nextLink);
      const users = page.members.flatMap((member) => (member.type === 'user' ? [member.user] : []));
      await stageUsers(runId, users, { latest: false });
      await stageEdges(runId, groupId, page.members.map((member: Member) => ({ id: member.type === 'user' ? member.user.id : member.id, type: member.type, removed: false })), { latest: false });
      cursor.nested.push(...page.members.flatMap((member) => (member.type === 'group' ? [member.id] : [])));
      cursor.pages += 1;
      cursor.members += page.members.length;
      cursor.nextLink = page.nextLink;
      onPage(cursor);
    } while (cursor.nextLink !== undefined);
    const displayName = group.displayName ?? groupId;
    const hidden = isHiddenMembership(group.visibility);
    // Graph withholds hidden memberships from apps without Member.Read.Hidden, silently: an
    // empty answer then means "cannot see", never "no members".
    if (hidden && cursor.members === 0 && !(await mayReadHidden(tenantId))) {
      return recordGroup(runId, { groupId, status: 'failed', displayName, error: HIDDEN, failureType: FailureType.GraphRefused, hidden }, cursor.requests);
    }
    return recordGroup(runId, { groupId, status: 'ok', displayName, groupType: groupType(group), nestedGroupIds: [...new Set(cursor.nested)], replaced: true, hidden }, cursor.requests);
  }

  const countThrottled = (error: unknown) => {
    if (error instanceof ApplicationFailure && error.type === FailureType.GraphThrottled) {
      metricMeter.createCounter('hook_sync_graph_throttled', 'responses', 'Graph 429s that outlasted the client retries').add(1);
    }
  };

  return {
    /**
     * Opens a full run (idempotent: the workflow chooses the id) and lists the synced groups.
     * Delta links that start now are taken first, so changes made during the read are caught by
     * the next delta cycle; if Graph cannot give them, the next cycle is a full read again.
     */
    async beginSyncRun(connectionId: string, runId: string, tenantId: string, trigger: string): Promise<string[]> {
      return keepHeartbeating(() => 'opening', async () => {
        await db.insertInto('sync_runs').values({ id: runId, connection_id: connectionId, trigger, kind: 'full' }).onConflict((conflict) => conflict.column('id').doNothing()).execute();
        await db.updateTable('entra_connections').set({ sync_status: 'running' }).where('id', '=', connectionId).where('sync_status', '!=', 'needs_reconnect').execute();
        const run = await db.selectFrom('sync_runs').select('groups_delta_link').where('id', '=', runId).executeTakeFirstOrThrow();
        if (run.groups_delta_link === null) {
          try {
            const links = await entra.call(tenantId, (graph) => latestDeltaLinks(graph, () => undefined));
            await db.updateTable('sync_runs').set({ groups_delta_link: links.groups, users_delta_link: links.users }).where('id', '=', runId).execute();
          } catch {
            // The group reads will meet the same trouble and report it; this run simply stores no links.
          }
        }
        const rows = await db.selectFrom('synced_groups').select('group_id').where('connection_id', '=', connectionId).orderBy('group_id').execute();
        return rows.map((row) => row.group_id);
      });
    },

    /**
     * Reads a batch of groups (synced or nested) in full into the run's staging tables, a few at
     * a time. Progress is heartbeated — the groups done and each open group's page cursor — so a
     * retry after a crash skips what is done and resumes mid-group; pages written twice are the
     * same rows. A group Graph refuses is reported and the others go on; a group that may succeed
     * later fails the attempt after the others are done, and Temporal retries just it. Nothing
     * a user sees changes until the run commits.
     */
    async syncGroups(connectionId: string, runId: string, tenantId: string, groupIds: string[]): Promise<GroupOutcome[]> {
      const progress: BatchProgress = (activityInfo().heartbeatDetails as BatchProgress | undefined) ?? { done: {}, cursors: {} };
      const queue = groupIds.filter((groupId) => !progress.done[groupId]);
      let retryable: Error | undefined;
      await keepHeartbeating(
        () => progress,
        () =>
          Promise.all(
            Array.from({ length: Math.min(READS_PER_BATCH, queue.length) }, async () => {
              for (let groupId = queue.shift(); groupId !== undefined; groupId = queue.shift()) {
                const cursor: Cursor = (progress.cursors[groupId] ??= { pages: 0, members: 0, requests: 0, nested: [] });
                try {
                  progress.done[groupId] = await entra.call(tenantId, (graph) => readGroup(graph, tenantId, runId, groupId, cursor, () => heartbeat(progress)));
                } catch (error) {
                  countThrottled(error);
                  if (!(error instanceof ApplicationFailure && error.nonRetryable)) {
                    retryable ??= error instanceof Error ? error : new Error(String(error));
                    continue;
                  }
                  const failureType = (error.type ?? FailureType.EntraUnavailable) as GroupOutcome['failureType'];
                  progress.done[groupId] = await recordGroup(runId, { groupId, status: 'failed', error: error.message, failureType }, cursor.requests);
                }
                delete progress.cursors[groupId];
                heartbeat(progress);
              }
            }),
          ),
      );
      if (retryable !== undefined) throw retryable;
      return groupIds.map((groupId) => progress.done[groupId]!);
    },

    /**
     * Whether Hook still has access to the tenant (a token, and `GET /organization`): asked when
     * some reads were refused, to tell revoked consent from a group Hook may not read.
     */
    async checkAccess(tenantId: string): Promise<boolean> {
      try {
        await keepHeartbeating(() => 'probing', () => entra.call(tenantId, (graph) => graph.api('/organization').select('id').get()));
        return true;
      } catch (error) {
        if (error instanceof ApplicationFailure && (error.type === FailureType.TokenRefused || error.type === FailureType.GraphRefused)) return false;
        throw error;
      }
    },

    /**
     * A batch that failed past its retries: its groups not read keep their last known members,
     * and the run notes why. Returns those groups, and the groups nested in the ones it did read,
     * which the run still has to read.
     */
    async recordBatchFailure(runId: string, groupIds: string[], error: string): Promise<{ failed: string[]; nested: string[] }> {
      const failed = await db
        .insertInto('sync_run_groups')
        .values(groupIds.map((groupId) => ({ run_id: runId, group_id: groupId, status: 'failed' as const, error })))
        .onConflict((conflict) => conflict.columns(['run_id', 'group_id']).doNothing())
        .returning('group_id')
        .execute();
      const failedIds = failed.map((row) => row.group_id);
      const read = groupIds.filter((groupId) => !failedIds.includes(groupId));
      const nested =
        read.length === 0
          ? []
          : await db.selectFrom('sync_staged_members').select('member_id').distinct().where('run_id', '=', runId).where('group_id', 'in', read).where('member_type', '=', 'group').where('removed', '=', false).execute();
      return { failed: failedIds, nested: nested.map((row) => row.member_id) };
    },

    /**
     * A delta cycle's read: what changed since the stored links, for users (properties,
     * deletions) and for the groups the synced groups contain (members added and removed,
     * renames, deletions). Groups it has never read in full (newly synced, newly nested, or
     * failed last time) are read in full; members it has never seen are looked up by id.
     * A retry starts the round again from the stored links: the staged rows are the same.
     */
    async readDelta(connectionId: string, runId: string, tenantId: string, trigger: string, retryGroupIds: string[]): Promise<DeltaReadResult> {
      const connection = await db.selectFrom('entra_connections').select(['groups_delta_link', 'users_delta_link']).where('id', '=', connectionId).executeTakeFirstOrThrow();
      if (connection.groups_delta_link === null || connection.users_delta_link === null) return { status: 'needs-full' };
      await db.insertInto('sync_runs').values({ id: runId, connection_id: connectionId, trigger, kind: 'delta' }).onConflict((conflict) => conflict.column('id').doNothing()).execute();
      const clear = async () => {
        for (const table of ['sync_staged_members', 'sync_staged_users', 'sync_run_groups'] as const) await db.deleteFrom(table).where('run_id', '=', runId).execute();
      };
      const synced = (await db.selectFrom('synced_groups').select('group_id').where('connection_id', '=', connectionId).execute()).map((row) => row.group_id);
      const nested = await db.selectFrom('group_edges').select('member_id').distinct().where('connection_id', '=', connectionId).where('member_type', '=', 'group').execute();
      const contained = [...synced, ...nested.map((row) => row.member_id)];
      const known = await db.selectFrom('directory_groups').select(['group_id', 'hidden_membership']).where('connection_id', '=', connectionId).execute();
      const readBefore = new Set(known.map((row) => row.group_id));
      const hiddenGroups = new Set(known.filter((row) => row.hidden_membership).map((row) => row.group_id));
      let requests = 0;
      const count = () => {
        requests += 1;
      };

      // Called again if Graph refuses a stale token once: it starts from nothing each time.
      const readChanges = async (graph: Client): Promise<string[]> => {
        await clear();
        const closure = new Set(contained);
        const usersLink = await followDelta(graph, connection.users_delta_link!, userDeltaSchema, async (users) => {
          await stageUsers(runId, users.filter((user) => !user['@removed']));
          await stageUsers(runId, users.filter((user) => user['@removed']), { deleted: true });
          heartbeat({ phase: 'users', requests });
        }, count);

        // Groups to read in full: never read, failed last time, or nested by a change below.
        const toRead = new Set([...synced.filter((id) => !readBefore.has(id)), ...retryGroupIds.filter((id) => closure.has(id))]);
        const groupsLink = await followDelta(graph, connection.groups_delta_link!, groupDeltaSchema, async (groups) => {
          for (const group of groups) {
            if (!closure.has(group.id)) continue; // a group the synced groups do not contain
            if (group['@removed']) {
              await recordGroup(runId, { groupId: group.id, status: 'missing', error: MISSING }, 0);
              continue;
            }
            if (group.displayName) await recordGroup(runId, { groupId: group.id, status: 'ok', displayName: group.displayName }, 0);
            const edges = (group['members@delta'] ?? []).flatMap((member) => {
              const type = (member['@odata.type'] ?? '').toLowerCase();
              if (type !== '#microsoft.graph.user' && type !== '#microsoft.graph.group') return [];
              return [{ id: member.id, type: type === '#microsoft.graph.user' ? ('user' as const) : ('group' as const), removed: member['@removed'] !== undefined }];
            });
            await stageEdges(runId, group.id, edges);
            for (const edge of edges) if (edge.type === 'group' && !edge.removed && !closure.has(edge.id)) toRead.add(edge.id);
          }
          heartbeat({ phase: 'groups', requests });
        }, count);

        // Full reads, newest truth last: they replace whatever the delta staged for the group.
        const failedGroups: string[] = [];
        const read = new Set<string>();
        for (let next = [...toRead]; next.length > 0; next = [...toRead].filter((id) => !read.has(id))) {
          for (const groupId of next) {
            read.add(groupId);
            closure.add(groupId);
            const cursor: Cursor = { pages: 0, members: 0, requests: 0, nested: [] };
            const outcome = await readGroup(graph, tenantId, runId, groupId, cursor, () => heartbeat({ phase: 'groups-full', requests }));
            requests += cursor.requests;
            if (outcome.status === 'failed') failedGroups.push(groupId);
            for (const child of outcome.nestedGroupIds ?? []) if (!closure.has(child)) toRead.add(child);
          }
        }

        // Hidden memberships the app may no longer read: those groups cannot vouch for anyone.
        if (hiddenGroups.size > 0 && !(await mayReadHidden(tenantId))) {
          for (const groupId of hiddenGroups) {
            if (!closure.has(groupId) || read.has(groupId)) continue;
            await recordGroup(runId, { groupId, status: 'failed', error: HIDDEN, failureType: FailureType.GraphRefused, hidden: true }, 0);
            failedGroups.push(groupId);
          }
        }

        // Members added by a change whom Hook has never seen: their properties, by id.
        const unknown = await db
          .selectFrom('sync_staged_members as s')
          .select('s.member_id')
          .distinct()
          .where('s.run_id', '=', runId)
          .where('s.member_type', '=', 'user')
          .where('s.removed', '=', false)
          .where((eb) => eb.not(eb.exists(eb.selectFrom('directory_users as u').select('u.user_id').where('u.connection_id', '=', connectionId).whereRef('u.user_id', '=', 's.member_id'))))
          .where((eb) => eb.not(eb.exists(eb.selectFrom('sync_staged_users as su').select('su.user_id').where('su.run_id', '=', runId).whereRef('su.user_id', '=', 's.member_id'))))
          .execute();
        if (unknown.length > 0) {
          const { found, notYetVisible } = await usersById(graph, entra.settings.graphOrigin, unknown.map((row) => row.member_id), count);
          await stageUsers(runId, found);
          // Listed as members but not found by id: Graph has not replicated them yet. Their groups
          // count as not read this cycle (nobody is removed on their account) and are read in full
          // next cycle, which lists the members with their properties.
          if (notYetVisible.length > 0) {
            const lagging = await db.selectFrom('sync_staged_members').select('group_id').distinct().where('run_id', '=', runId).where('member_id', 'in', notYetVisible).execute();
            for (const { group_id: groupId } of lagging) {
              if (failedGroups.includes(groupId)) continue;
              await recordGroup(runId, { groupId, status: 'failed', error: NOT_YET_VISIBLE, failureType: FailureType.EntraUnavailable }, 0);
              failedGroups.push(groupId);
            }
          }
        }

        await db.updateTable('sync_runs').set({ groups_delta_link: groupsLink, users_delta_link: usersLink, graph_requests: requests }).where('id', '=', runId).execute();
        return failedGroups;
      };

      try {
        const failed = await keepHeartbeating(() => ({ requests }), () => entra.call(tenantId, async (graph) => {
          try {
            return await readChanges(graph);
          } catch (error) {
            if (error instanceof DeltaExpired) return 'expired' as const;
            throw error;
          }
        }));
        if (failed === 'expired') {
          // The run becomes a full read: its id is reused, so nothing of the delta attempt stays.
          await clear();
          await db.deleteFrom('sync_runs').where('id', '=', runId).execute();
          return { status: 'expired' };
        }
        return { status: 'ok', failedGroupIds: failed, graphRequests: requests };
      } catch (error) {
        countThrottled(error);
        throw error;
      }
    },

    commitSyncRun: (connectionId: string, runId: string, options: Parameters<typeof commitSyncRun>[3]) => keepHeartbeating(() => 'committing', () => commitSyncRun(db, connectionId, runId, options)),

    /** Disconnect, run by the sync workflow between cycles: the users leave Hook, the groups stop syncing. Idempotent. */
    async disconnectConnection(connectionId: string): Promise<{ removed: number }> {
      return { removed: await disconnectConnection(db, connectionId) };
    },
  };
}

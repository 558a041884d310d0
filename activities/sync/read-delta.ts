import { heartbeat } from '@temporalio/activity';
import { connectionDeltaLinks, deleteRun, deltaScope, openRun, setRunDeltaLinks, type DeltaLinks } from '../../db/repositories/sync/runs.js';
import { clearStagedRun, groupsStagingMembers, membersWithoutProperties, stagedUsersHookRemoved, stageEdges, stageUsers, type StagedEdge } from '../../db/repositories/sync/staging.js';
import { FailureType } from '../../workflows/failures.js';
import type { DeltaReadResult } from '../../workflows/sync/messages.js';
import { usersById } from '../graph/batch.js';
import { DeltaExpired, followDelta, groupDeltaSchema, userDeltaSchema } from '../graph/delta.js';
import { memberOfPage } from '../graph/members.js';
import { keepHeartbeating } from '../heartbeat.js';
import { countThrottled, toStagedUser, type createRunContexts, type RunContext, type SyncDeps } from './context.js';
import { HIDDEN, MISSING, newCursor, NOT_YET_VISIBLE, readGroup, recordOutcome } from './read-group.js';

type Scope = Awaited<ReturnType<typeof deltaScope>>;

const USER_TYPE = '#microsoft.graph.user';
const GROUP_TYPE = '#microsoft.graph.group';

/** A group's `members@delta` as staged edges; devices and contacts are not Hook's. */
function edgesOf(members: Array<{ id: string; '@odata.type'?: string; '@removed'?: unknown }>): StagedEdge[] {
  return members.flatMap((member) => {
    const type = (member['@odata.type'] ?? '').toLowerCase();
    if (type !== USER_TYPE && type !== GROUP_TYPE) return [];
    return [{ id: member.id, type: type === USER_TYPE ? ('user' as const) : ('group' as const), removed: member['@removed'] !== undefined }];
  });
}

/**
 * One delta round from the stored links: user changes, then group changes inside the synced
 * groups' closure, then full reads of groups never read (or failed, or newly nested), then the
 * properties of members Hook has never seen. Returns the groups that could not be read.
 */
async function readChanges(run: RunContext, connectionId: string, links: DeltaLinks, scope: Scope, retryGroupIds: string[], tally: { requests: number }): Promise<string[]> {
  const { db, runId } = run;
  await clearStagedRun(db, runId);
  const closure = new Set(scope.contained);
  const requested = () => {
    tally.requests += 1;
  };
  const usersLink = await followDelta(run.graph, links.users, userDeltaSchema, async (users) => {
    await stageUsers(db, runId, users.filter((user) => !user['@removed']).map(toStagedUser));
    await stageUsers(db, runId, users.filter((user) => user['@removed']).map(toStagedUser), { deleted: true });
    heartbeat({ phase: 'users', requests: tally.requests });
  }, requested);

  // Users restored from Entra's recycle bin come back in the users round, but their memberships
  // never left Entra, so no group round reports them: their direct groups are read, by user.
  for (const userId of await stagedUsersHookRemoved(db, connectionId, runId)) {
    let next: string | undefined;
    do {
      requested();
      const link = next;
      const page = await run.graph((client) => memberOfPage(client, userId, link));
      for (const groupId of page.groupIds.filter((id) => closure.has(id))) await stageEdges(db, runId, groupId, [{ id: userId, type: 'user', removed: false }]);
      next = page.nextLink;
    } while (next !== undefined);
  }

  // Groups to read in full: never read, failed last time, or nested by a change below.
  const toRead = new Set([...scope.synced.filter((id) => !scope.readBefore.has(id)), ...retryGroupIds.filter((id) => closure.has(id))]);
  const groupsLink = await followDelta(run.graph, links.groups, groupDeltaSchema, async (groups) => {
    for (const group of groups) {
      if (!closure.has(group.id)) continue; // a group the synced groups do not contain
      if (group['@removed']) {
        await recordOutcome(run, { groupId: group.id, status: 'missing', error: MISSING }, 0);
        continue;
      }
      if (group.displayName) await recordOutcome(run, { groupId: group.id, status: 'ok', displayName: group.displayName }, 0);
      const edges = edgesOf(group['members@delta'] ?? []);
      await stageEdges(db, runId, group.id, edges);
      for (const edge of edges) if (edge.type === 'group' && !edge.removed && !closure.has(edge.id)) toRead.add(edge.id);
    }
    heartbeat({ phase: 'groups', requests: tally.requests });
  }, requested);

  // Full reads, newest truth last: they replace whatever the delta staged for the group.
  const failed: string[] = [];
  const read = new Set<string>();
  for (let next = [...toRead]; next.length > 0; next = [...toRead].filter((id) => !read.has(id))) {
    for (const groupId of next) {
      read.add(groupId);
      closure.add(groupId);
      const cursor = newCursor();
      const outcome = await readGroup(run, groupId, cursor, () => heartbeat({ phase: 'groups-full', requests: tally.requests }), { synced: scope.synced.includes(groupId) });
      tally.requests += cursor.requests;
      if (outcome.status === 'failed') failed.push(groupId);
      for (const child of outcome.nestedGroupIds ?? []) if (!closure.has(child)) toRead.add(child);
    }
  }

  // Hidden memberships the app may no longer read: those groups cannot vouch for anyone.
  if (scope.hidden.size > 0 && !(await run.mayReadHidden())) {
    for (const groupId of scope.hidden) {
      if (!closure.has(groupId) || read.has(groupId)) continue;
      await recordOutcome(run, { groupId, status: 'failed', error: HIDDEN, failureType: FailureType.GraphRefused }, 0, { hidden: true });
      failed.push(groupId);
    }
  }

  // Members added by a change whom Hook has never seen: their properties, by id.
  const unknown = await membersWithoutProperties(db, connectionId, runId);
  if (unknown.length > 0) {
    const { found, notYetVisible } = await usersById(run.graph, run.graphOrigin, unknown, requested);
    await stageUsers(db, runId, found.map(toStagedUser));
    // Listed as members but not found by id: Graph has not replicated them yet. Their groups
    // count as not read this cycle (nobody is removed on their account) and are read in full
    // next cycle, which lists the members with their properties.
    for (const groupId of await groupsStagingMembers(db, runId, notYetVisible)) {
      if (failed.includes(groupId)) continue;
      await recordOutcome(run, { groupId, status: 'failed', error: NOT_YET_VISIBLE, failureType: FailureType.EntraUnavailable }, 0);
      failed.push(groupId);
    }
  }

  await setRunDeltaLinks(db, runId, { groups: groupsLink, users: usersLink }, tally.requests);
  return failed;
}

export function createDeltaReadActivities({ db }: SyncDeps, runContext: ReturnType<typeof createRunContexts>) {
  return {
    /**
     * A delta cycle's read: what changed since the stored links, for users (properties,
     * deletions) and for the groups the synced groups contain (members added and removed,
     * renames, deletions). Groups it has never read in full (newly synced, newly nested, or
     * failed last time) are read in full; members it has never seen are looked up by id.
     * A retry starts the round again from the stored links: the staged rows are the same.
     */
    async readDelta(connectionId: string, runId: string, tenantId: string, trigger: string, retryGroupIds: string[]): Promise<DeltaReadResult> {
      const links = await connectionDeltaLinks(db, connectionId);
      if (links === undefined) return { status: 'needs-full' };
      await openRun(db, { id: runId, connectionId, trigger, kind: 'delta' });
      const scope = await deltaScope(db, connectionId);
      const tally = { requests: 0 };
      try {
        const failed = await keepHeartbeating(() => tally, () => readChanges(runContext(tenantId, runId), connectionId, links, scope, retryGroupIds, tally));
        return { status: 'ok', failedGroupIds: failed, graphRequests: tally.requests };
      } catch (error) {
        if (error instanceof DeltaExpired) {
          // The run becomes a full read: its id is reused, so nothing of the delta attempt stays.
          await clearStagedRun(db, runId);
          await deleteRun(db, runId);
          return { status: 'expired' };
        }
        countThrottled(error);
        throw error;
      }
    },
  };
}

import { ApplicationFailure } from '@temporalio/activity';
import { clearStagedGroup, recordGroupOutcome } from '../../db/repositories/sync/staging.js';
import { describeFailure, FailureType } from '../../workflows/failures.js';
import type { GroupOutcome } from '../../workflows/sync/messages.js';
import { groupSchema, groupType, GROUP_SELECT } from '../graph/groups.js';
import { directMembersPage } from '../graph/members.js';
import { isHiddenMembership } from '../graph/token-roles.js';
import type { RunContext } from './context.js';
import { MISSING_GROUP as MISSING } from './decide/group-status.js';

export { MISSING };

export const NOT_YET_VISIBLE = 'A new member is not visible in Microsoft Graph yet (replication lag): the group is read again on the next sync.';
export const HIDDEN = `Could not load members. ${describeFailure({ type: FailureType.HiddenMembership, message: '' })}`;

/** How far the read of one group has come: heartbeated, so a retried activity resumes at its page. */
export interface Cursor {
  nextLink?: string;
  pages: number;
  members: number;
  requests: number;
  nested: string[];
}

/** Requests one group's read has in flight at most: the group itself and its first page of members. */
export const REQUESTS_PER_READ = 2;

export const newCursor = (): Cursor => ({ pages: 0, members: 0, requests: 0, nested: [] });

/** Records a group's outcome in the run and hands it back. */
export async function recordOutcome(run: RunContext, outcome: GroupOutcome, graphRequests: number, read: { replaced?: boolean; hidden?: boolean } = {}): Promise<GroupOutcome> {
  await recordGroupOutcome(run.db, run.runId, { ...outcome, ...read }, graphRequests);
  return outcome;
}

/**
 * Reads one group in full (`synced`: one of the connection's synced groups, not one nested in them): its name and visibility, then its direct members page by page into
 * the run's staging tables (users with their properties, nested groups as edges). Each page is
 * written after its request returns. `cursor` lets a retried activity resume at the page it had
 * reached. `nothingStaged`: the run has staged nothing for this group yet.
 */
export async function readGroup(run: RunContext, groupId: string, cursor: Cursor, onPage: (cursor: Cursor) => void, { synced, nothingStaged = false }: { synced: boolean; nothingStaged?: boolean }): Promise<GroupOutcome> {
  // The first page of members is asked for beside the group itself, in the same round trip of
  // waiting; it is dropped if the group turns out missing (a resumed read starts at its cursor).
  const firstPage = cursor.pages === 0 ? run.graph((client) => directMembersPage(client, groupId, undefined)) : undefined;
  if (firstPage !== undefined) {
    cursor.requests += 1;
    firstPage.catch(() => undefined); // awaited below, unless the group's own read ends the read
  }
  let group;
  try {
    cursor.requests += 1;
    group = await run.graph(async (client) => groupSchema.parse(await client.api(`/groups/${groupId}`).select(GROUP_SELECT).get()));
  } catch (error) {
    if (error instanceof ApplicationFailure && error.type === FailureType.GraphNotFound) {
      // A nested group was just listed by its parent: a 404 is replication lag, "not yet", never
      // "gone" (a nested group deleted in Entra is no longer listed, or comes @removed in a delta).
      // A synced group that 404s is missing, and its members stay through the grace period.
      if (!synced) return recordOutcome(run, { groupId, status: 'failed', error: NOT_YET_VISIBLE, failureType: FailureType.EntraUnavailable }, cursor.requests);
      return recordOutcome(run, { groupId, status: 'missing', error: MISSING }, cursor.requests);
    }
    throw error;
  }
  // Starting the group over: rows an abandoned attempt staged for it must go (a member who left
  // meanwhile would stay). `nothingStaged` when the caller knows there are none.
  if (cursor.pages === 0 && !nothingStaged) await clearStagedGroup(run.db, run.runId, groupId);
  const nextPage = () => {
    cursor.requests += 1;
    return run.graph((client) => directMembersPage(client, groupId, cursor.nextLink));
  };
  do {
    const page = cursor.pages === 0 && firstPage !== undefined ? await firstPage : await nextPage();
    await run.stageReadPage(
      groupId,
      page.members.flatMap((member) => (member.type === 'user' ? [member.user] : [])),
      page.members.map((member) => ({ id: member.type === 'user' ? member.user.id : member.id, type: member.type, removed: false })),
    );
    cursor.nested.push(...page.members.flatMap((member) => (member.type === 'group' ? [member.id] : [])));
    cursor.pages += 1;
    cursor.members += page.members.length;
    cursor.nextLink = page.nextLink;
    onPage(cursor);
  } while (cursor.nextLink !== undefined);
  const displayName = group.displayName ?? groupId;
  const hidden = isHiddenMembership(group.visibility);
  // Graph withholds hidden memberships from apps without Member.Read.Hidden, silently: an empty
  // answer then means "cannot see", never "no members".
  if (hidden && cursor.members === 0 && !(await run.mayReadHidden())) {
    return recordOutcome(run, { groupId, status: 'failed', displayName, error: HIDDEN, failureType: FailureType.GraphRefused }, cursor.requests, { hidden });
  }
  return recordOutcome(run, { groupId, status: 'ok', displayName, groupType: groupType(group), nestedGroupIds: [...new Set(cursor.nested)] }, cursor.requests, { replaced: true, hidden });
}

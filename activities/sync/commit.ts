import type { Transaction } from 'kysely';
import type { Db } from '../../db/client.js';
import { refreshDirectoryStats } from '../../db/repositories/directory.js';
import * as steps from '../../db/repositories/sync/commit/index.js';
import { advanceDeltaLinks, finishRun, lockRun, openRun, previousRunStatus, recordCycle } from '../../db/repositories/sync/runs.js';
import { dropStaging } from '../../db/repositories/sync/staging.js';
import { tagEvents, writeEventsOfOneOrg } from '../../db/repositories/events.js';
import type { Database } from '../../db/schema.js';
import type { CommitOptions, CommitResult } from '../../workflows/sync/messages.js';
import { syncStatusAfter } from '../../workflows/sync/status.js';
import { recordCycleMetrics } from '../metrics.js';
import { groupStatusUpdates } from './decide/group-status.js';
import { decideRemovals } from './decide/removals.js';
import { groupsToClear, trustedGroups } from './decide/trust.js';

type Trx = Transaction<Database>;

/**
 * Applies a run in one transaction. A full run replaces the direct memberships of every group
 * it read; a delta run patches them with the changes it read. Effective memberships follow,
 * recomputed only where something changed. Users are upserted by Entra object id. Nobody is
 * removed unless every synced group (and every group inside it) was read; the mass-deletion
 * guard holds back larger removals until an admin confirms. Committing twice changes nothing.
 * `clock` is the time the commit stamps (tests move it to pass a grace period).
 */
export async function commitSyncRun(db: Db, connectionId: string, runId: string, options: CommitOptions, clock: () => Date = () => new Date()): Promise<CommitResult> {
  // Set by the attempt that finishes the run; metrics are recorded once its transaction committed.
  let finished: { kind: 'full' | 'delta'; startedAt: Date; now: Date } | undefined;
  const lap = stepTimer();
  const result = await db.transaction().execute(async (trx) => {
    await tagEvents(trx, runId);
    // Other orgs' feeds need not wait for this transaction (a first sync's commit is long).
    await writeEventsOfOneOrg(trx, connectionId);
    // A delta read that failed early may not have opened its run.
    if (options.readFailed) await openRun(trx, { id: runId, connectionId, trigger: options.trigger, kind: 'delta' });
    const run = await lockRun(trx, runId);
    if (run.finished_at !== null) {
      return { usersAdded: run.users_added, usersUpdated: run.users_updated, usersRemoved: run.users_removed, groupsOk: run.groups_ok, groupsFailed: run.groups_failed, pendingRemovals: 0, status: run.status as CommitResult['status'] };
    }
    const now = clock();
    finished = { kind: run.kind, startedAt: run.started_at, now };
    const { synced, outcomes, knownNames } = await steps.trustInputs(trx, connectionId, runId);
    lap('prepare');
    if (options.readFailed) return finish(trx, { usersAdded: 0, usersUpdated: 0, usersRemoved: 0, groupsOk: 0, groupsFailed: synced.length, pendingRemovals: 0, status: 'partial' }, now);

    const delta = run.kind === 'delta';
    const syncedIds = synced.map((group) => group.group_id);
    const grace = { now, missingGraceMs: options.missingGraceMs };
    // After a clean commit every active user was in a synced group, so a delta commit need only
    // look, for removals, at the users who lose a membership in it. null: look at every user (a
    // full run, a run after trouble, a user arrived, or a group left the selection).
    let lostMembership: Set<string> | null = delta && (await previousRunStatus(trx, connectionId, runId)) === 'ok' ? new Set() : null;
    const noteLost = (userIds: string[]) => userIds.forEach((id) => lostMembership?.add(id));

    // 1. Direct memberships.
    const { missingSynced, replaced, dropped } = groupsToClear({ synced, outcomes, delta, ...grace });
    const structural = await steps.applyEdges(trx, connectionId, runId, { replaced, dropped, delta });
    lap('direct_members');

    // 2. Users.
    const users = await steps.upsertUsers(trx, connectionId, runId);
    if (users.added > 0) lostMembership = null; // a new user may be in no synced group yet
    lap('users');

    // 3. Which synced groups can be trusted this run.
    const tree = await steps.buildTree(trx, connectionId);
    const { held, trusted } = trustedGroups({ syncedIds, tree, outcomes, missingSynced, knownGroups: new Set(knownNames.keys()), delta, ...grace });

    // 4. Effective memberships. A full run recomputes every trusted group; a delta run recomputes
    //    groups whose structure changed, and checks single (group, user) pairs for member changes.
    //    A group never synced before (newly chosen, or held until now) has no memberships to patch.
    const fresh = new Set(synced.filter((group) => group.last_synced_at === null).map((group) => group.group_id));
    const recompute = delta ? trusted.filter((root) => fresh.has(root) || [...(tree.get(root) ?? [])].some((groupId) => structural.has(groupId))) : trusted;
    const pairRoots = delta ? trusted.filter((root) => !recompute.includes(root)) : [];
    noteLost(await steps.recomputeMemberships(trx, connectionId, recompute));
    noteLost(await steps.patchMembershipPairs(trx, connectionId, runId, pairRoots));
    // Groups no longer synced drop their memberships; groups no synced group contains any more
    // drop their direct members. Their users go below unless another group has them.
    const leftWithUnsyncedGroup = new Set(await steps.dropUnsyncedMemberships(trx, connectionId, syncedIds));
    if (leftWithUnsyncedGroup.size > 0) lostMembership = null; // a group left the selection: look at everyone
    await steps.pruneOutsideTree(trx, connectionId);
    const restored = await steps.restoreMembers(trx, connectionId);
    lap('memberships');

    // 5. Removals: active users in no synced group any more, only when every group was read.
    const candidates = await steps.usersInNoGroup(trx, connectionId, lostMembership === null ? null : [...lostMembership]);
    const removal = decideRemovals({
      candidates,
      heldGroups: held.size,
      leftWithUnsyncedGroup,
      confirmed: await steps.confirmedSet(trx, connectionId, options.confirmed),
      applyingConfirmation: options.confirmed !== undefined,
      confirmAll: options.confirmRemovals,
      activeUsers: candidates.length === 0 ? 0 : await steps.activeUserCount(trx, connectionId),
      maxRemovalShare: options.maxRemovalShare,
    });
    const usersRemoved = await steps.removeUsers(trx, connectionId, removal.remove, now);
    // A cycle that read everything decides the held set anew (an empty one clears it).
    if (removal.hold !== 'unchanged') await steps.holdForConfirmation(trx, connectionId, runId, removal.hold);
    const holding = removal.hold === 'unchanged' ? [] : removal.hold;
    const usersAdded = users.added + restored;
    if (usersAdded + users.updated + usersRemoved > 0) await refreshDirectoryStats(trx, connectionId);
    lap('removals');

    // 6. What the Groups tab shows: names, counts, errors, and groups read in full.
    const counts = await steps.membershipCounts(trx, connectionId, [...new Set([...recompute, ...pairRoots])]);
    await steps.writeGroupStatus(trx, connectionId, groupStatusUpdates({ syncedIds, outcomes, tree, held, missingSynced, fresh, knownNames, counts }), now);
    const rows = [...outcomes.values()].filter((row) => row.status === 'ok');
    await steps.renameKnownGroups(trx, connectionId, rows.flatMap((row) => (!row.replaced && row.display_name ? [{ groupId: row.group_id, name: row.display_name }] : [])));
    await steps.recordGroupsRead(trx, connectionId, rows.filter((row) => row.replaced).map((row) => ({ groupId: row.group_id, name: row.display_name, hidden: row.hidden_membership })), now);
    lap('group_status');

    // 7. The next delta round starts where this run's read ended.
    if (run.groups_delta_link !== null && run.users_delta_link !== null) {
      await advanceDeltaLinks(trx, connectionId, { groups: run.groups_delta_link, users: run.users_delta_link }, { full: !delta, now });
    }
    const pendingDigest = holding.length > 0 ? steps.digestOf(holding) : undefined;
    return finish(trx, { usersAdded, usersUpdated: users.updated, usersRemoved, groupsOk: trusted.length, groupsFailed: held.size, pendingRemovals: holding.length, ...(pendingDigest ? { pendingDigest } : {}), status: removal.status }, now);
  });
  lap('transaction_commit');
  if (finished) recordCycleMetrics({ kind: finished.kind, result, durationSeconds: Math.max(0, finished.now.getTime() - finished.startedAt.getTime()) / 1000, steps: lap.seconds });
  return result;

  async function finish(trx: Trx, result: CommitResult, now: Date): Promise<CommitResult> {
    await finishRun(trx, runId, result, options.error ?? null, now);
    await recordCycle(trx, connectionId, {
      syncStatus: syncStatusAfter({ needsReconnect: options.needsReconnect, result }),
      needsReconnect: options.needsReconnect,
      pendingRemovals: result.pendingRemovals,
      ...(result.pendingDigest ? { pending: { runId, digest: result.pendingDigest } } : {}),
    }, now);
    await dropStaging(trx, runId);
    lap('finish');
    return result;
  }
}

/** Seconds between laps, by the step that just ended: where a commit's time went, for operators' metrics. */
function stepTimer() {
  const seconds: Record<string, number> = {};
  let mark = performance.now();
  const lap = (step: string) => {
    const now = performance.now();
    seconds[step] = (seconds[step] ?? 0) + (now - mark) / 1000;
    mark = now;
  };
  return Object.assign(lap, { seconds });
}

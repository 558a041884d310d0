import { activityInfo, ApplicationFailure } from '@temporalio/activity';
import { markSyncRunning, openRun, runDeltaLinks, setRunDeltaLinks, syncedGroupIds } from '../../db/repositories/sync/runs.js';
import { groupsWithStagedMembers, recordFailedGroups, stagedNestedGroups } from '../../db/repositories/sync/staging.js';
import { FailureType } from '../../workflows/failures.js';
import type { GroupOutcome } from '../../workflows/sync/messages.js';
import { latestDeltaLinks } from '../graph/delta.js';
import { heartbeatAtMostEverySecond, keepHeartbeating } from '../heartbeat.js';
import { countThrottled, type createRunContexts, type SyncDeps } from './context.js';
import { newCursor, readGroup, recordOutcome, type Cursor } from './read-group.js';

/**
 * Groups one batch activity reads at the same time; with the workflow's four batches, 48 reads.
 * Each asks for a group and its first page of members at once, but the tenant's pacer lets at
 * most 48 requests be in flight (`MAX_REQUESTS_IN_FLIGHT`, fewer while the budget binds): the
 * reads beyond that are the ones writing a page to PostgreSQL meanwhile, so waiting on Graph and
 * writing overlap (with six reads a batch, each read waited for its writes before its next
 * request, and half the places stood idle). Graph sets no concurrency limit for directory reads,
 * only the resource-unit budget: a full read costs about 3 RU per group, and the pacer slows the
 * reads when the budget binds.
 */
export const READS_PER_BATCH = 12;

interface BatchProgress {
  done: Record<string, GroupOutcome>;
  cursors: Record<string, Cursor>;
}

export function createFullReadActivities({ db }: SyncDeps, runContext: ReturnType<typeof createRunContexts>) {
  return {
    /**
     * Opens a full run (idempotent: the workflow chooses the id) and lists the synced groups.
     * Delta links that start now are taken first, so changes made during the read are caught by
     * the next delta cycle; if Graph cannot give them, the next cycle is a full read again.
     */
    async beginSyncRun(connectionId: string, runId: string, tenantId: string, trigger: string): Promise<string[]> {
      return keepHeartbeating(() => 'opening', async () => {
        await openRun(db, { id: runId, connectionId, trigger, kind: 'full' });
        await markSyncRunning(db, connectionId);
        if ((await runDeltaLinks(db, runId)) === undefined) {
          const links = await latestDeltaLinks(runContext(tenantId, runId).graph).catch(() => undefined);
          // Without links the group reads will meet the same trouble and report it; this run simply stores none.
          if (links !== undefined) await setRunDeltaLinks(db, runId, links);
        }
        return syncedGroupIds(db, connectionId);
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
      const run = runContext(tenantId, runId);
      const progress: BatchProgress = (activityInfo().heartbeatDetails as BatchProgress | undefined) ?? { done: {}, cursors: {} };
      const queue = groupIds.filter((groupId) => !progress.done[groupId]);
      const synced = new Set(await syncedGroupIds(db, connectionId));
      let retryable: Error | undefined;
      const beat = heartbeatAtMostEverySecond(() => progress);
      // A group an abandoned attempt began is started over (its rows cleared); one the run has
      // staged nothing for needs no clearing: one look for the batch instead of a delete per group.
      const begun = await groupsWithStagedMembers(db, runId, queue);
      const readNext = async () => {
        for (let groupId = queue.shift(); groupId !== undefined; groupId = queue.shift()) {
          const cursor = (progress.cursors[groupId] ??= newCursor());
          try {
            progress.done[groupId] = await readGroup(run, groupId, cursor, beat, { synced: synced.has(groupId), nothingStaged: !begun.has(groupId) });
          } catch (error) {
            countThrottled(error);
            if (!(error instanceof ApplicationFailure && error.nonRetryable)) {
              retryable ??= error instanceof Error ? error : new Error(String(error));
              continue;
            }
            const failureType = (error.type ?? FailureType.EntraUnavailable) as GroupOutcome['failureType'];
            progress.done[groupId] = await recordOutcome(run, { groupId, status: 'failed', error: error.message, failureType }, cursor.requests);
          }
          delete progress.cursors[groupId];
          beat();
        }
      };
      await keepHeartbeating(() => progress, () => Promise.all(Array.from({ length: Math.min(READS_PER_BATCH, queue.length) }, readNext)));
      if (retryable !== undefined) throw retryable;
      return groupIds.map((groupId) => progress.done[groupId]!);
    },

    /**
     * A batch that failed past its retries: its groups not read keep their last known members,
     * and the run notes why. Returns those groups, and the groups nested in the ones it did read,
     * which the run still has to read.
     */
    async recordBatchFailure(runId: string, groupIds: string[], error: string): Promise<{ failed: string[]; nested: string[] }> {
      const failed = await recordFailedGroups(db, runId, groupIds, error);
      const nested = await stagedNestedGroups(db, runId, groupIds.filter((groupId) => !failed.includes(groupId)));
      return { failed, nested };
    },
  };
}

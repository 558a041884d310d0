import { condition } from '@temporalio/workflow';
import { BATCHES_IN_FLIGHT, GROUPS_PER_BATCH, stepFailure, type Activities } from './activities.js';
import type { DirectorySyncInput, GroupOutcome, SyncTrigger } from './messages.js';

/**
 * Reads every synced group in full, and every group nested in them, in batches; groups that
 * failed before go first. A group that fails past its retries is noted and skipped.
 */
export async function readInFull(
  { beginSyncRun, syncGroups, recordBatchFailure }: Pick<Activities, 'beginSyncRun' | 'syncGroups' | 'recordBatchFailure'>,
  input: DirectorySyncInput,
  { runId, trigger, retryGroupIds }: { runId: string; trigger: SyncTrigger; retryGroupIds: string[] },
): Promise<GroupOutcome[]> {
  const groupIds = await beginSyncRun(input.connectionId, runId, input.tenantId, trigger);
  const retryFirst = new Set(retryGroupIds);
  const queue = [...groupIds.filter((id) => retryFirst.has(id)), ...groupIds.filter((id) => !retryFirst.has(id))];
  const seen = new Set(queue);
  const outcomes: GroupOutcome[] = [];
  const enqueue = (groupIds: string[]) => {
    for (const groupId of groupIds) {
      if (seen.has(groupId)) continue;
      seen.add(groupId);
      queue.push(groupId);
    }
  };
  let reading = 0;
  const readNext = async (): Promise<void> => {
    for (;;) {
      await condition(() => queue.length > 0 || reading === 0);
      const batch = queue.splice(0, GROUPS_PER_BATCH);
      if (batch.length === 0) return;
      reading += 1;
      try {
        for (const outcome of await syncGroups(input.connectionId, runId, input.tenantId, batch)) {
          outcomes.push(outcome);
          enqueue(outcome.nestedGroupIds ?? []);
        }
      } catch (error) {
        // Past its retries: the groups it could not read are noted; the others were read, and
        // the groups nested in them are still to read.
        const failure = stepFailure(error);
        const { failed, nested } = await recordBatchFailure(runId, batch, failure.message);
        for (const groupId of failed) outcomes.push({ groupId, status: 'failed', error: failure.message, failureType: failure.failureType });
        enqueue(nested);
      } finally {
        reading -= 1;
      }
    }
  };
  await Promise.all(Array.from({ length: BATCHES_IN_FLIGHT }, readNext));
  return outcomes;
}

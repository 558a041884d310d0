import { condition, setHandler } from '@temporalio/workflow';
import {
  selectionChangedSignal,
  syncStatusQuery,
  type DirectorySyncInput,
  type DirectorySyncStatus,
} from './messages.js';

/**
 * The per-connection sync workflow, so far only its hand-over: it records the saved selection's
 * version and the groups whose preview failed, which the first sync cycle will retry. The
 * cycles themselves (reading members, upserting users) come with the sync issue.
 */
export async function directorySyncWorkflow(input: DirectorySyncInput): Promise<void> {
  const status: DirectorySyncStatus = { connectionId: input.connectionId, selectionVersion: 0, retryGroupIds: [], selectionChanges: 0 };
  setHandler(selectionChangedSignal, (change) => {
    if (change.version < status.selectionVersion) return; // an older save arriving late
    status.selectionVersion = change.version;
    status.retryGroupIds = [...new Set([...status.retryGroupIds, ...change.retryGroupIds])];
    status.selectionChanges += 1;
  });
  setHandler(syncStatusQuery, () => status);
  await condition(() => false);
}

import type { WorkflowStartOptions } from '@temporalio/client';
import { directorySyncWorkflowId, type DirectorySyncInput } from '../workflows/sync/messages.js';
import type { directorySyncWorkflow } from '../workflows/sync/workflow.js';

/** The sync workflow's type name, as the web and the activities start it. */
export const DIRECTORY_SYNC_WORKFLOW = 'directorySyncWorkflow';

export interface SyncTarget {
  orgId: string;
  connectionId: string;
  tenantId: string;
  tenantName: string;
}

/**
 * How every caller starts (or reaches) a connection's one sync workflow: its stable id, its
 * input with the configured settings, and the tenant's name as a memo for operators in the
 * Temporal UI (not indexed, not searchable). Used by signal-with-start (Save, Sync now) and
 * update-with-start (Disconnect) alike.
 */
export function syncStartOptions(
  target: SyncTarget,
  taskQueue: string,
  settings: Omit<DirectorySyncInput, 'orgId' | 'connectionId' | 'tenantId'> = {},
): WorkflowStartOptions<typeof directorySyncWorkflow> {
  return {
    workflowId: directorySyncWorkflowId(target.connectionId),
    taskQueue,
    args: [{ orgId: target.orgId, connectionId: target.connectionId, tenantId: target.tenantId, ...settings }],
    memo: { tenantName: target.tenantName },
  };
}

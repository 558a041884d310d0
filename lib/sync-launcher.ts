import { WithStartWorkflowOperation, type Client, type WorkflowStartOptions } from '@temporalio/client';
import { directorySyncWorkflowId, disconnectUpdate, DIRECTORY_SYNC_WORKFLOW, selectionChangedSignal, syncNowSignal, type DirectorySyncInput, type SelectionChange } from '../workflows/sync/messages.js';
import type { directorySyncWorkflow } from '../workflows/sync/workflow.js';

export interface SyncTarget {
  orgId: string;
  connectionId: string;
  tenantId: string;
  tenantName: string;
}

export type SyncSettings = Omit<DirectorySyncInput, 'orgId' | 'connectionId' | 'tenantId'>;

/** A connection row as the launcher needs it. */
export const syncTargetOf = (connection: { org_id: string; id: string; tenant_id: string; tenant_name: string }): SyncTarget => ({
  orgId: connection.org_id,
  connectionId: connection.id,
  tenantId: connection.tenant_id,
  tenantName: connection.tenant_name,
});

/**
 * How every caller starts (or reaches) a connection's one sync workflow: its stable id, its
 * input with the configured settings, and the tenant's name as a memo for operators in the
 * Temporal UI (not indexed, not searchable).
 */
export function syncStartOptions(target: SyncTarget, taskQueue: string, settings: SyncSettings = {}): WorkflowStartOptions<typeof directorySyncWorkflow> {
  return {
    workflowId: directorySyncWorkflowId(target.connectionId),
    taskQueue,
    args: [{ orgId: target.orgId, connectionId: target.connectionId, tenantId: target.tenantId, ...settings }],
    memo: { tenantName: target.tenantName },
  };
}

/**
 * The one launcher of the sync workflow. Save (from the selection workflow's activity) and Sync
 * now signal it, starting it if it is not running (signal-with-start); Disconnect is an update
 * with start, because the pane must know when it is done.
 */
export function createSyncLauncher(client: Client, taskQueue: string, settings: SyncSettings = {}) {
  const start = (target: SyncTarget) => syncStartOptions(target, taskQueue, settings);
  return {
    async selectionSaved(target: SyncTarget, change: SelectionChange): Promise<void> {
      await client.workflow.signalWithStart<typeof directorySyncWorkflow, [SelectionChange]>(DIRECTORY_SYNC_WORKFLOW, { ...start(target), signal: selectionChangedSignal, signalArgs: [change] });
    },
    async syncNow(target: SyncTarget): Promise<void> {
      await client.workflow.signalWithStart<typeof directorySyncWorkflow, []>(DIRECTORY_SYNC_WORKFLOW, { ...start(target), signal: syncNowSignal, signalArgs: [] });
    },
    disconnect(target: SyncTarget): Promise<{ removed: number }> {
      return client.workflow.executeUpdateWithStart(disconnectUpdate, {
        args: [],
        startWorkflowOperation: new WithStartWorkflowOperation<typeof directorySyncWorkflow>(DIRECTORY_SYNC_WORKFLOW, { ...start(target), workflowIdConflictPolicy: 'USE_EXISTING' }),
      });
    },
  };
}

export type SyncLauncher = ReturnType<typeof createSyncLauncher>;

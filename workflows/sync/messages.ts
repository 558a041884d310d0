import { defineQuery, defineSignal } from '@temporalio/workflow';

/** One long-running sync workflow per connection, with a stable, readable id. */
export const directorySyncWorkflowId = (connectionId: string) => `directory-sync-${connectionId}`;

export interface DirectorySyncInput {
  orgId: string;
  connectionId: string;
  tenantId: string;
}

export interface SelectionChange {
  version: number;
  /** Groups whose preview failed: the first sync after the save retries them first. */
  retryGroupIds: string[];
}

export interface DirectorySyncStatus {
  connectionId: string;
  selectionVersion: number;
  retryGroupIds: string[];
  selectionChanges: number;
}

// A signal: saving does not wait for the sync; it only hands the change over (signal-with-start).
export const selectionChangedSignal = defineSignal<[SelectionChange]>('selectionChanged');
export const syncStatusQuery = defineQuery<DirectorySyncStatus>('syncStatus');

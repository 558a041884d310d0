import { defineQuery, defineUpdate } from '@temporalio/workflow';

/** The workflow's type name, as clients start it (the exported function's name). */
export const GROUP_SELECTION_WORKFLOW = 'groupSelectionWorkflow';

/** One selection run per connection at a time: every admin editing it shares this run. */
export const groupSelectionWorkflowId = (connectionId: string) => `group-selection-${connectionId}`;

export interface GroupSelectionInput {
  orgId: string;
  connectionId: string;
  tenantId: string;
  /** The preview's time budget (default 20 s), enforced by a workflow timer. */
  previewBudgetMs?: number;
}

export const MAX_SELECTION = 5_000;
export const LARGE_SELECTION = 100;

export interface PickerGroup {
  id: string;
  displayName: string;
  type: 'microsoft365' | 'security' | 'distribution';
  memberCount: number | null;
}

export interface PreviewSummary {
  previewId: string;
  groupIds: string[];
  /** Groups whose sample could not be loaded (403, 404, …): "Could not load members". */
  failedGroupIds: string[];
  /** Groups still sampling when the budget ran out. */
  timedOutGroupIds: string[];
  partial: boolean;
}

export type SelectionStage = 'loading' | 'ready' | 'previewing' | 'previewed' | 'saved' | 'failed';

export interface SelectionStatus {
  stage: SelectionStage;
  /** The saved selection's version this run started from (the stale-save check). */
  baseVersion: number;
  selection: string[];
  loadedGroups: number;
  truncated: boolean;
  preview?: PreviewSummary;
  failure?: string;
}

// Updates, not signals: the page needs "accepted" or the reason it was refused, and the
// validators refuse bad input before anything is written to history.
export const searchGroupsUpdate = defineUpdate<PickerGroup[], [{ query: string }]>('searchGroups');
export const requestPreviewUpdate = defineUpdate<PreviewSummary, [{ groupIds: string[]; baseVersion: number }]>('requestPreview');
/**
 * Save names the preview it saves (its id) and the selection version it started from: a save of
 * a preview that is no longer the current one (another admin, or another tab, previewed since) is
 * refused. Older callers that name neither are refused too.
 */
export const saveSelectionUpdate = defineUpdate<{ version: number }, [{ saveId: string; previewId?: string; baseVersion?: number }]>('saveSelection');

export const selectionStatusQuery = defineQuery<SelectionStatus>('selectionStatus');

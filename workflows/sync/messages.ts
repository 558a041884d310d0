import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { FailureType } from '../failures.js';

/** The workflow's type name, as clients start it (the exported function's name). */
export const DIRECTORY_SYNC_WORKFLOW = 'directorySyncWorkflow';

/** One long-running sync workflow per connection, with a stable, readable id. */
export const directorySyncWorkflowId = (connectionId: string) => `directory-sync-${connectionId}`;

export interface DirectorySyncInput {
  orgId: string;
  connectionId: string;
  tenantId: string;
  /** Time between scheduled cycles (default 5 minutes). */
  intervalMs?: number;
  /** Time between full reads; the cycles between them read only changes (default 24 hours). */
  fullReconcileMs?: number;
  /** A cycle may remove at most this share of the connection's users without confirmation (0.2). */
  maxRemovalShare?: number;
  /** How long a deleted group keeps its members before they are removed (default 7 days). */
  missingGraceMs?: number;
  /** How long a group's read may go without a heartbeat before another worker takes it (1 minute). */
  heartbeatTimeoutMs?: number;
}

/** What one run of the workflow carries into the next (continue-as-new). */
export interface CarriedState {
  selectionVersion: number;
  retryGroupIds: string[];
  pending: SyncTrigger | null;
  /** Carried by runs from before confirmations named their set; always false since. */
  confirmRemovals: boolean;
  /** The removals a cycle held back: what a confirmation must name. */
  awaiting?: PendingRemovals;
  /** The set an admin confirmed: the next commit removes these (and only these of the held ones). */
  confirmed?: PendingRemovals;
  needsReconnect: boolean;
  cycles: number;
  lastRun?: LastRun;
  /** When the next cycle reads everything again (epoch ms); absent until a full read has run. */
  fullSyncDueAt?: number;
}

export type SyncTrigger = 'schedule' | 'sync-now' | 'selection' | 'reconnect' | 'confirm';

export interface SelectionChange {
  version: number;
  /** Groups whose preview failed: the first sync after the save retries them first. */
  retryGroupIds: string[];
}

export interface GroupOutcome {
  groupId: string;
  status: 'ok' | 'failed' | 'missing';
  displayName?: string;
  memberCount?: number;
  groupType?: string;
  error?: string;
  failureType?: FailureType;
  /** Groups this group contains directly: the full read goes on to read them too. */
  nestedGroupIds?: string[];
}

/** What a delta cycle's read found: changes staged, or a reason to read everything instead. */
export type DeltaReadResult =
  | { status: 'ok'; failedGroupIds: string[]; graphRequests: number }
  | { status: 'needs-full' }
  | { status: 'expired' };

/** A held set of removals, as the pane showed it: the run that held it, how many, and a digest of who. */
export interface PendingRemovals {
  runId: string;
  count: number;
  digest: string;
}

export interface CommitOptions {
  trigger: SyncTrigger;
  maxRemovalShare: number;
  confirmRemovals: boolean;
  /** The held set an admin confirmed (run and digest): removed even past the guard. */
  confirmed?: PendingRemovals;
  missingGraceMs: number;
  needsReconnect: boolean;
  error?: string;
  /** The delta read itself failed: the run changes nothing. */
  readFailed?: boolean;
}

export interface CommitResult {
  usersAdded: number;
  usersUpdated: number;
  usersRemoved: number;
  groupsOk: number;
  groupsFailed: number;
  pendingRemovals: number;
  /** With awaiting_confirmation: the digest of the held set. */
  pendingDigest?: string;
  status: 'ok' | 'partial' | 'awaiting_confirmation';
}

export interface LastRun extends CommitResult {
  runId: string;
  kind?: 'full' | 'delta';
  trigger: SyncTrigger;
  finishedAt: string;
}

export interface DirectorySyncStatus {
  connectionId: string;
  running: boolean;
  selectionVersion: number;
  retryGroupIds: string[];
  needsReconnect: boolean;
  cycles: number;
  lastRun?: LastRun;
  nextRunAt?: string;
}

// Signals: none of these needs an answer; the pane polls the status query.
export const selectionChangedSignal = defineSignal<[SelectionChange]>('selectionChanged');
export const syncNowSignal = defineSignal('syncNow');
/** Kept so a signal from an older web process is received, but it confirms nothing any more. */
export const confirmRemovalsSignal = defineSignal('confirmRemovals');
// An update with a validator: the admin confirms exactly the set the pane showed (run and digest);
// nothing pending, or a set that changed since, is refused with the reason, and arms nothing.
export const confirmRemovalsUpdate = defineUpdate<{ count: number }, [{ runId: string; digest: string }]>('confirmRemovals');
export const reconnectedSignal = defineSignal('reconnected');
// An update: the pane must know it is done. The workflow runs it between cycles (never beside a
// commit), then ends; it also ends the connection's group selection.
export const disconnectUpdate = defineUpdate<{ removed: number }, []>('disconnect');
export const syncStatusQuery = defineQuery<DirectorySyncStatus>('syncStatus');

import type { CommitResult } from './messages.js';

/**
 * A connection's sync status, one vocabulary for the database (`entra_connections.sync_status`,
 * which the pane reads) and Temporal's `HookSyncStatus` search attribute (which operators filter
 * on): `temporal workflow list --query "HookSyncStatus='failing'"`.
 */
export type SyncStatus = 'idle' | 'running' | 'needs_reconnect' | 'awaiting_confirmation' | 'failing';

/** The status a finished cycle leaves. */
export function syncStatusAfter(cycle: { needsReconnect: boolean; result: Pick<CommitResult, 'status' | 'groupsFailed'> }): SyncStatus {
  if (cycle.needsReconnect) return 'needs_reconnect';
  if (cycle.result.status === 'awaiting_confirmation') return 'awaiting_confirmation';
  return cycle.result.groupsFailed > 0 ? 'failing' : 'idle';
}

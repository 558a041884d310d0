import type { ColumnType, Generated, Selectable } from 'kysely';
import type { SyncStatus } from '../../workflows/sync/status.js';
import type { CreatedAt } from './identity.js';

// Entra connections and the consent requests that create them.
export interface VerifiedDomain {
  name: string;
  isDefault: boolean;
  isInitial: boolean;
}

export type ConnectionStatus = 'connected' | 'needs_reconnect' | 'disconnected';

export interface EntraConnectionsTable {
  id: Generated<string>;
  org_id: string;
  tenant_id: string;
  tenant_name: string;
  verified_domains: ColumnType<VerifiedDomain[], string | undefined, string>;
  status: ColumnType<ConnectionStatus, ConnectionStatus | undefined, ConnectionStatus>;
  connected_at: ColumnType<Date, Date | undefined, Date>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  selection_version: ColumnType<number, number | undefined, number>;
  last_save_id: string | null;
  groups_truncated: ColumnType<boolean, boolean | undefined, boolean>;
  groups_loaded_at: Date | null;
  sync_status: ColumnType<SyncStatus, SyncStatus | undefined, SyncStatus>;
  last_sync_at: Date | null;
  pending_removals: ColumnType<number, number | undefined, number>;
  groups_delta_link: string | null;
  users_delta_link: string | null;
  last_full_sync_at: Date | null;
  user_count: ColumnType<number, number | undefined, number>;
  guest_count: ColumnType<number, number | undefined, number>;
  disabled_count: ColumnType<number, number | undefined, number>;
  shared_mailbox_count: ColumnType<number, number | undefined, number>;
  /** The run whose held removals wait for confirmation, and a digest of their set. */
  pending_run_id: string | null;
  pending_digest: string | null;
  /** The last settled sync status announced as an event (a trigger keeps it, migration 0013). */
  announced_status: ColumnType<SyncStatus, never, never>;
}

/** Active users per email domain of a connection (the Authorized domains pane), kept by the sync. */
export interface DirectoryDomainsTable {
  connection_id: string;
  email_domain: string;
  users: number;
}

export type { SyncStatus };

export interface ConsentRequestsTable {
  state_hash: string;
  session_hash: string;
  org_id: string;
  workflow_id: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
  /** sign_in: the OpenID Connect trip that proves the tenant; consent: the admin consent sent to it. */
  phase: ColumnType<ConsentPhase, ConsentPhase, never>;
  redirect_uri: string | null;
  nonce: string | null;
  code_verifier: string | null;
  code: string | null;
  proven_tenant_id: string | null;
  proven_user: string | null;
  proven_at: Date | null;
}

export type ConsentPhase = 'legacy' | 'sign_in' | 'consent';

export type EntraConnection = Selectable<EntraConnectionsTable>;

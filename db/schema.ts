import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { SyncStatus } from '../workflows/sync/status.js';

/** The tables as the application sees them. Migrations in db/migrations/ are the source of truth. */
export interface Database {
  orgs: OrgsTable;
  accounts: AccountsTable;
  org_memberships: OrgMembershipsTable;
  sessions: SessionsTable;
  sign_in_failures: SignInFailuresTable;
  entra_connections: EntraConnectionsTable;
  consent_requests: ConsentRequestsTable;
  entra_groups: EntraGroupsTable;
  synced_groups: SyncedGroupsTable;
  preview_samples: PreviewSamplesTable;
  preview_members: PreviewMembersTable;
  pending_removals: PendingRemovalsTable;
  directory_users: DirectoryUsersTable;
  group_memberships: GroupMembershipsTable;
  group_edges: GroupEdgesTable;
  directory_groups: DirectoryGroupsTable;
  directory_domains: DirectoryDomainsTable;
  sync_staged_members: SyncStagedMembersTable;
  sync_staged_users: SyncStagedUsersTable;
  sync_runs: SyncRunsTable;
  sync_run_groups: SyncRunGroupsTable;
}

type CreatedAt = ColumnType<Date, Date | undefined, never>;

export interface OrgsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  created_at: CreatedAt;
}

export interface AccountsTable {
  id: Generated<string>;
  email: string;
  display_name: string;
  password_hash: string;
  created_at: CreatedAt;
}

export type OrgRole = 'admin' | 'member';

export interface OrgMembershipsTable {
  org_id: string;
  account_id: string;
  role: OrgRole;
  created_at: CreatedAt;
}

export type Org = Selectable<OrgsTable>;
export type NewOrg = Insertable<OrgsTable>;
export type Account = Selectable<AccountsTable>;

export interface Flash {
  kind: 'success' | 'error';
  title: string;
  message?: string;
  hint?: string;
}

export interface SessionsTable {
  id_hash: string;
  account_id: string;
  current_org_id: string | null;
  flash: ColumnType<Flash | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  expires_at: Date;
}

export interface SignInFailuresTable {
  id: Generated<string>;
  email: string;
  address: string;
  at: ColumnType<Date, Date | undefined, never>;
}

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

export type GroupType = 'microsoft365' | 'security' | 'distribution';

export interface EntraGroupsTable {
  connection_id: string;
  group_id: string;
  display_name: string;
  group_type: GroupType;
  visibility: string | null;
  member_count: number | null;
  in_first_page: ColumnType<boolean, boolean | undefined, boolean>;
  loaded_at: ColumnType<Date, Date | undefined, Date>;
}

export interface SyncedGroupsTable {
  connection_id: string;
  group_id: string;
  display_name: string;
  added_at: ColumnType<Date, Date | undefined, never>;
  member_count: number | null;
  group_type: string | null;
  last_synced_at: Date | null;
  last_error: string | null;
  missing_since: Date | null;
}

export interface SampledMember {
  id: string;
  displayName: string | null;
  email: string | null;
  guest: boolean;
  disabled: boolean;
  /** A guess: disabled with a mailbox is most often a shared mailbox or a service account. */
  sharedMailbox: boolean;
  /** No mailbox (mail empty): Hook's sends cannot reach this account. Optional in samples from before. */
  noMailbox?: boolean;
}

/** How many members of a sampled group are worth a look before saving. */
export interface SampleFlags {
  guests: number;
  disabled: number;
  sharedMailboxes: number;
  noMailbox: number;
}

export interface PendingRemovalsTable {
  connection_id: string;
  run_id: string;
  user_id: string;
}

export interface PreviewMembersTable {
  connection_id: string;
  preview_id: string;
  group_id: string;
  user_id: string;
}

export interface PreviewSamplesTable {
  connection_id: string;
  preview_id: string;
  group_id: string;
  status: 'ok' | 'failed';
  total: number | null;
  members: ColumnType<SampledMember[], string | undefined, string>;
  error: string | null;
  flags: ColumnType<SampleFlags | null, string | null | undefined, string | null>;
  complete: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface DirectoryUsersTable {
  connection_id: string;
  user_id: string;
  display_name: string | null;
  mail: string | null;
  user_principal_name: string | null;
  user_type: string | null;
  account_enabled: boolean | null;
  removed_at: Date | null;
  removed_reason: string | null;
  email_domain: string | null;
  /** Name, mail and UPN lowercased, kept by PostgreSQL (generated), for the search. */
  search_text: ColumnType<string, never, never>;
  is_guest: ColumnType<boolean, boolean | undefined, boolean>;
  is_shared_mailbox: ColumnType<boolean, boolean | undefined, boolean>;
  first_seen_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface GroupMembershipsTable {
  connection_id: string;
  group_id: string;
  user_id: string;
}

/** A group's direct member (a user or a nested group). */
export interface GroupEdgesTable {
  connection_id: string;
  group_id: string;
  member_id: string;
  member_type: 'user' | 'group';
}

export interface DirectoryGroupsTable {
  connection_id: string;
  group_id: string;
  display_name: string | null;
  hidden_membership: ColumnType<boolean, boolean | undefined, boolean>;
  read_at: ColumnType<Date, Date | undefined, Date>;
}

/** An edge a run read: in full (the group's run row says `replaced`), or as a delta change. */
export interface SyncStagedMembersTable {
  run_id: string;
  group_id: string;
  member_id: string;
  member_type: ColumnType<'user' | 'group', 'user' | 'group' | undefined, 'user' | 'group'>;
  removed: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface SyncRunsTable {
  id: string;
  connection_id: string;
  trigger: string;
  status: ColumnType<string, string | undefined, string>;
  started_at: ColumnType<Date, Date | undefined, never>;
  finished_at: Date | null;
  users_added: ColumnType<number, number | undefined, number>;
  users_updated: ColumnType<number, number | undefined, number>;
  users_removed: ColumnType<number, number | undefined, number>;
  groups_ok: ColumnType<number, number | undefined, number>;
  groups_failed: ColumnType<number, number | undefined, number>;
  graph_requests: ColumnType<number, number | undefined, number>;
  error: string | null;
  kind: ColumnType<'full' | 'delta', 'full' | 'delta' | undefined, 'full' | 'delta'>;
  groups_delta_link: string | null;
  users_delta_link: string | null;
}

export interface SyncRunGroupsTable {
  run_id: string;
  group_id: string;
  status: 'ok' | 'failed' | 'missing';
  display_name: string | null;
  group_type: string | null;
  member_count: number | null;
  error: string | null;
  graph_requests: ColumnType<number, number | undefined, number>;
  replaced: ColumnType<boolean, boolean | undefined, boolean>;
  hidden_membership: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface SyncStagedUsersTable {
  run_id: string;
  user_id: string;
  display_name: string | null;
  mail: string | null;
  user_principal_name: string | null;
  user_type: string | null;
  account_enabled: boolean | null;
  is_guest: boolean;
  is_shared_mailbox: boolean;
  email_domain: string;
  deleted: ColumnType<boolean, boolean | undefined, boolean>;
}

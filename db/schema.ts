import type { OrgsTable, AccountsTable, OrgMembershipsTable, SessionsTable, SignInFailuresTable } from './schema/identity.js';
import type { EntraConnectionsTable, DirectoryDomainsTable, ConsentRequestsTable } from './schema/connections.js';
import type { EntraGroupsTable, SyncedGroupsTable, PendingRemovalsTable, PreviewMembersTable, PreviewSamplesTable } from './schema/selection.js';
import type { DirectoryUsersTable, GroupMembershipsTable, GroupEdgesTable, DirectoryGroupsTable } from './schema/directory.js';
import type { SyncStagedMembersTable, SyncRunsTable, SyncRunGroupsTable, SyncStagedUsersTable } from './schema/sync.js';
import type { ApiKeysTable, DirectoryEventsTable, DirectoryEventsHorizonTable, WebhookEndpointsTable } from './schema/api.js';
import type { SyncStatus } from '../workflows/sync/status.js';

export type * from './schema/identity.js';
export type * from './schema/connections.js';
export type * from './schema/selection.js';
export type * from './schema/directory.js';
export type * from './schema/sync.js';
export type * from './schema/api.js';
export type { SyncStatus };

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
  api_keys: ApiKeysTable;
  directory_events: DirectoryEventsTable;
  directory_events_horizon: DirectoryEventsHorizonTable;
  webhook_endpoints: WebhookEndpointsTable;
}

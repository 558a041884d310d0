import type { ColumnType } from 'kysely';

// Sync runs and their staging tables.
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

import type { ColumnType } from 'kysely';

// The synced directory: users, memberships, the group structure and the groups read.
export interface DirectoryUsersTable {
  /** Hook's id for the user (the directory API's), stable while the row lives. */
  id: ColumnType<string, string | undefined, never>;
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

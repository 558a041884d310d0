import type { ColumnType } from 'kysely';

// The picker's groups, the saved selection and the preview's samples.
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
  /** Hook's id for the synced group (the directory API's). */
  id: ColumnType<string, string | undefined, never>;
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

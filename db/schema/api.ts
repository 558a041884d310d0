import type { ColumnType, Generated, Selectable } from 'kysely';
import type { CreatedAt } from './identity.js';

// The directory API's keys.
export interface ApiKeysTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  /** The key's first characters, shown in Settings to tell keys apart. */
  prefix: string;
  /** SHA-256 of the whole key (hex); the key itself is never stored. */
  token_hash: string;
  created_by: string | null;
  created_at: CreatedAt;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export type ApiKey = Selectable<ApiKeysTable>;

/**
 * The outbox of directory changes (migration 0013): written by PostgreSQL's triggers in the
 * transaction that changed the directory; read in (tx, id) order by the events feed.
 */
export interface DirectoryEventsTable {
  id: ColumnType<string, never, never>;
  /** The writing transaction's id (xid8, as text). */
  tx: ColumnType<string, never, never>;
  org_id: string;
  connection_id: string;
  type: string;
  occurred_at: ColumnType<Date, Date | undefined, never>;
  run_id: string | null;
  user_ref: string | null;
  group_ref: string | null;
  data: ColumnType<Record<string, unknown>, string, never>;
}

/** The newest position the retention sweep deleted. */
export interface DirectoryEventsHorizonTable {
  one_row: ColumnType<boolean, boolean | undefined, never>;
  tx: string;
  id: string;
}

/** A webhook endpoint (migration 0014): where an org's change events are delivered. */
export interface WebhookEndpointsTable {
  id: Generated<string>;
  org_id: string;
  url: string;
  event_types: ColumnType<string[], string[] | undefined, string[]>;
  secret: string;
  paused: ColumnType<boolean, boolean | undefined, boolean>;
  created_by: string | null;
  created_at: CreatedAt;
  deleted_at: Date | null;
  position_tx: string;
  position_id: ColumnType<string, string, string>;
  delivered_count: ColumnType<number, never, number>;
  last_attempt_at: Date | null;
  last_success_at: Date | null;
  last_status: string | null;
  failing_since: Date | null;
}

export type WebhookEndpoint = Selectable<WebhookEndpointsTable>;

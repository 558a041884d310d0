import type { Generated, Selectable } from 'kysely';
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

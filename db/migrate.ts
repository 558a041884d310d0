import { inspect } from 'node:util';
import { Migrator, type Kysely, type Migration, type MigrationProvider, type MigrationResult } from 'kysely';
import * as m0001 from './migrations/0001_orgs_and_accounts.js';
import * as m0002 from './migrations/0002_sessions_connections.js';
import * as m0003 from './migrations/0003_group_selection.js';
import * as m0004 from './migrations/0004_sync.js';
import * as m0005 from './migrations/0005_delta_sync.js';
import * as m0006 from './migrations/0006_directory_stats.js';
import * as m0007 from './migrations/0007_nested_group_edges.js';
import * as m0008 from './migrations/0008_tenant_ownership.js';
import * as m0009 from './migrations/0009_preview_and_counts.js';
import * as m0010 from './migrations/0010_bound_decisions.js';
import * as m0011 from './migrations/0011_staged_user_rules.js';
import * as m0012 from './migrations/0012_directory_api.js';
import * as m0013 from './migrations/0013_directory_events.js';
import * as m0014 from './migrations/0014_webhooks.js';
import * as m0015 from './migrations/0015_bulk_membership_events.js';
import * as m0016 from './migrations/0016_bulk_load_costs.js';
import * as m0017 from './migrations/0017_one_org_transactions.js';

// Migrations are listed here rather than read from the folder, so the same code runs from
// TypeScript sources (npm start, tests) and from the compiled build (npm run migrate).
export const migrations: Readonly<Record<string, Migration>> = {
  '0001_orgs_and_accounts': m0001,
  '0002_sessions_connections': m0002,
  '0003_group_selection': m0003,
  '0004_sync': m0004,
  '0005_delta_sync': m0005,
  '0006_directory_stats': m0006,
  '0007_nested_group_edges': m0007,
  '0008_tenant_ownership': m0008,
  '0009_preview_and_counts': m0009,
  '0010_bound_decisions': m0010,
  '0011_staged_user_rules': m0011,
  '0012_directory_api': m0012,
  '0013_directory_events': m0013,
  '0014_webhooks': m0014,
  '0015_bulk_membership_events': m0015,
  '0016_bulk_load_costs': m0016,
  '0017_one_org_transactions': m0017,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Applies every pending migration; returns the names applied now. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result: MigrationResult) => result.status === 'Error');
  if (error !== undefined) {
    const reason = error instanceof Error ? error.message : inspect(error);
    throw new MigrationError(`migration ${failed?.migrationName ?? '(setup)'} failed: ${reason}`, { cause: error });
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

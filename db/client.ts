import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

// Postgres returns bigint (count(*), sums) as text by default; our counts fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export type Db = Kysely<Database>;

export interface DbOptions {
  /** Upper bound on open connections from this process. */
  max?: number;
  /** How long a new connection may take before the query fails (a down database answers fast). */
  connectionTimeoutMillis?: number;
}

export function createDb(connectionString: string, options: DbOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
    application_name: 'hook-directory-sync',
  });
  // An idle client whose server went away emits 'error' on the pool; without a listener
  // that would crash the process instead of failing the next query.
  pool.on('error', () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

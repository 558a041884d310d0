import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../dev/embedded-postgres.js';
import { findOrInstallTemporalCli } from '../../dev/temporal-cli.js';
import { startTemporalDevServer } from '../../dev/temporal-dev-server.js';
import { toolsDir } from '../../lib/paths.js';
import { freePort } from './ports.js';

export interface Services {
  temporalAddress: string;
  temporalCliPath: string;
  /** An admin connection to the cluster: callers create their own databases on it. */
  postgresAdminUrl: string;
  stop: () => Promise<void>;
}

/**
 * The services tests and benchmarks run on: TEMPORAL_ADDRESS, else a Temporal dev server; and
 * DATABASE_URL, else an embedded PostgreSQL in a temporary folder (deleted on stop).
 */
export async function startServices(log: (line: string) => void): Promise<Services> {
  const stops: Array<() => Promise<void>> = [];
  const temporalCliPath = await findOrInstallTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH || undefined, toolsDir, log });

  let temporalAddress = process.env.TEMPORAL_ADDRESS || undefined;
  if (temporalAddress === undefined) {
    const server = await startTemporalDevServer({ binary: temporalCliPath, port: await freePort(), namespace: 'default' });
    stops.push(server.stop);
    temporalAddress = server.address;
  }

  let postgresAdminUrl = process.env.DATABASE_URL || undefined;
  if (postgresAdminUrl === undefined) {
    const dir = await mkdtemp(path.join(tmpdir(), 'hook-test-pg-'));
    const postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await freePort(), database: 'postgres', persistent: false });
    stops.push(postgres.stop);
    postgresAdminUrl = postgres.adminUrl;
  }

  return {
    temporalAddress,
    temporalCliPath,
    postgresAdminUrl,
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
    },
  };
}

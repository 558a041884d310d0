import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../dev/embedded-postgres.js';
import { findOrInstallTemporalCli } from '../../dev/temporal-cli.js';
import { startTemporalDevServer } from '../../dev/temporal-dev-server.js';
import { toolsDir } from '../../lib/paths.js';
import { freePort } from './ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCliPath: string;
    postgresAdminUrl: string;
  }
}

/**
 * ONE Temporal dev server (or TEMPORAL_ADDRESS) and ONE PostgreSQL (DATABASE_URL, else an
 * embedded one) for the whole run. Files get their own databases and task queues.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  const temporalCliPath = await findOrInstallTemporalCli({
    explicitPath: process.env.TEMPORAL_CLI_PATH || undefined,
    toolsDir,
    log: (line) => console.log(line),
  });

  let temporalAddress = process.env.TEMPORAL_ADDRESS || undefined;
  if (temporalAddress === undefined) {
    const server = await startTemporalDevServer({
      binary: temporalCliPath,
      port: await freePort(),
      namespace: 'default',
    });
    stops.push(server.stop);
    temporalAddress = server.address;
  }

  let postgresAdminUrl = process.env.DATABASE_URL || undefined;
  if (postgresAdminUrl === undefined) {
    const dir = await mkdtemp(path.join(tmpdir(), 'hook-test-pg-'));
    const postgres = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'data'),
      port: await freePort(),
      database: 'postgres',
      persistent: false,
    });
    stops.push(postgres.stop);
    postgresAdminUrl = postgres.adminUrl;
  }

  project.provide('temporalAddress', temporalAddress);
  project.provide('temporalCliPath', temporalCliPath);
  project.provide('postgresAdminUrl', postgresAdminUrl);
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}

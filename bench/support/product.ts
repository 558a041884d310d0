import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { createEntraClients } from '../../activities/graph/clients.js';
import { createDb, type Db } from '../../db/client.js';
import { migrateToLatest } from '../../db/migrate.js';
import { createDatabaseIfMissing, startEmbeddedPostgres } from '../../dev/embedded-postgres.js';
import { findOrInstallTemporalCli } from '../../dev/temporal-cli.js';
import { startTemporalDevServer } from '../../dev/temporal-dev-server.js';
import { emulatorEntraSettings } from '../../emulator/demo.js';
import { toolsDir } from '../../lib/paths.js';
import { workflowsPath } from '../../worker/worker.js';
import { freePort } from '../../tests/support/ports.js';
import { startEmulatorProcess, type EmulatorProcess } from './emulator-process.js';

export interface BenchProduct {
  db: Db;
  client: Client;
  taskQueue: string;
  emulator: EmulatorProcess;
  stop: () => Promise<void>;
}

/**
 * The product's back end for a benchmark: a Temporal dev server, PostgreSQL (DATABASE_URL or an
 * embedded one), the real worker, and the emulator in its own process with the given tenants.
 */
export async function startBenchProduct(emulatorArgs: string[]): Promise<BenchProduct> {
  const stops: Array<() => Promise<unknown>> = [];
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Installed already (by a caller that wants, say, Prometheus metrics): use it as it is.
  }
  const binary = await findOrInstallTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH || undefined, toolsDir, log: (line) => console.error(line) });
  const server = await startTemporalDevServer({ binary, port: await freePort(), namespace: 'default' });
  stops.push(server.stop);

  let adminUrl = process.env.DATABASE_URL || undefined;
  if (adminUrl === undefined) {
    const dir = await mkdtemp(path.join(tmpdir(), 'hook-bench-pg-'));
    const postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await freePort(), database: 'postgres', persistent: false });
    stops.push(postgres.stop);
    adminUrl = postgres.adminUrl;
  }
  const database = `hook_bench_${Date.now()}`;
  await createDatabaseIfMissing(adminUrl, database);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const db = createDb(url.toString(), { max: 20 });
  await migrateToLatest(db);
  stops.push(() => db.destroy());

  const emulator = await startEmulatorProcess(emulatorArgs);
  stops.push(emulator.stop);

  const connection = await Connection.connect({ address: server.address });
  stops.push(() => connection.close());
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  stops.push(() => nativeConnection.close());
  const taskQueue = 'bench';
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath,
    activities: createActivities({
      db,
      entra: createEntraClients(emulatorEntraSettings(emulator.httpsUrl, undefined)),
      temporal: { client, taskQueue },
    }),
  });
  const running = worker.run();
  stops.push(async () => {
    worker.shutdown();
    await running;
  });
  return {
    db,
    client,
    taskQueue,
    emulator,
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
    },
  };
}

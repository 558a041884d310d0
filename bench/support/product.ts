import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createEntraClients } from '../../activities/graph/clients.js';
import { createDb, type Db } from '../../db/client.js';
import { WEBHOOK_SECRETS } from '../../db/repositories/webhooks.js';
import { secretBox } from '../../lib/secret-box.js';
import { migrateToLatest } from '../../db/migrate.js';
import { loadConfig, workerTuning } from '../../lib/config.js';
import { createDatabaseIfMissing, dropDatabase } from '../../dev/embedded-postgres.js';
import { emulatorEntraSettings } from '../../emulator/demo.js';
import { startServices } from '../../tests/support/services.js';
import { createWorker } from '../../worker/worker.js';
import { createEventsListener } from '../../lib/events-listener.js';
import { startEmulatorProcess, type EmulatorProcess } from './emulator-process.js';

/** The benchmarks' DATA_ENCRYPTION_KEY, for the webhook endpoints they register. */
export const benchWebhookSecrets = secretBox('bench-data-encryption-key-0123456789-abcdefgh', WEBHOOK_SECRETS);

export interface BenchProduct {
  db: Db;
  /** Where the benchmark's database and Temporal are, for a process of the product's own. */
  databaseUrl: string;
  temporalAddress: string;
  client: Client;
  taskQueue: string;
  emulator: EmulatorProcess;
  stop: () => Promise<void>;
}

/**
 * The product's back end for a benchmark: the services tests use (TEMPORAL_ADDRESS or a dev
 * server, DATABASE_URL or an embedded PostgreSQL), the real worker, and the emulator in its own
 * process with the given tenants.
 */
export async function startBenchProduct(emulatorArgs: string[]): Promise<BenchProduct> {
  const stops: Array<() => Promise<unknown>> = [];
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Installed already (by a caller that wants, say, Prometheus metrics): use it as it is.
  }
  const services = await startServices((line) => console.error(line));
  stops.push(services.stop);
  const adminUrl = services.postgresAdminUrl;
  const database = `hook_bench_${Date.now()}`;
  await createDatabaseIfMissing(adminUrl, database);
  // A benchmark's 100,000 users take a quarter of a gigabyte: gone when it ends, unless kept to look at.
  if (process.env.BENCH_KEEP_DATABASE === undefined) stops.push(() => dropDatabase(adminUrl, database));
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  // The production processes' tuning: DATABASE_POOL_SIZE connections, twice as many activity slots.
  const tuning = workerTuning(loadConfig(process.env));
  const db = createDb(url.toString(), { max: tuning.poolSize });
  await migrateToLatest(db);
  stops.push(() => db.destroy());

  const events = createEventsListener(url.toString());
  stops.push(() => events.close());
  const emulator = await startEmulatorProcess(emulatorArgs);
  stops.push(emulator.stop);

  const connection = await Connection.connect({ address: services.temporalAddress });
  stops.push(() => connection.close());
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: services.temporalAddress });
  stops.push(() => nativeConnection.close());
  const taskQueue = 'bench';
  const worker = await createWorker({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    deps: {
      db,
      entra: createEntraClients(emulatorEntraSettings(emulator.httpsUrl, undefined)),
      temporal: { client, taskQueue },
      // The benchmarks' webhook receivers listen on loopback.
      webhooks: { allowPrivateTargets: true, listener: events, secrets: benchWebhookSecrets },
    },
    maxConcurrentActivities: tuning.maxConcurrentActivities,
  });
  const running = worker.run();
  stops.push(async () => {
    worker.shutdown();
    await running;
  });
  return {
    db,
    databaseUrl: url.toString(),
    temporalAddress: services.temporalAddress,
    client,
    taskQueue,
    emulator,
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
    },
  };
}

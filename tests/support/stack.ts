import type { Worker } from '@temporalio/worker';
import type { TenantInput, WorldInput } from '../../emulator/model.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { createTestWorker, seedOrgs, startTestApp } from './app.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { startTestEmulator } from './emulator.js';
import { connectToTemporal } from './temporal.js';

export interface ProductStack {
  database: TestDatabase;
  temporal: Awaited<ReturnType<typeof connectToTemporal>>;
  emulator: RunningEmulator;
  app: Awaited<ReturnType<typeof startTestApp>>;
  people: Awaited<ReturnType<typeof seedOrgs>>;
  stop: () => Promise<void>;
}

/**
 * The product as a person meets it: its own database with two orgs and their people, the web
 * app, the real worker on the run's Temporal dev server, and the Entra emulator.
 */
export async function startProductStack(options: { prefix: string; tenants?: TenantInput[]; applications?: WorldInput['applications']; port?: number }): Promise<ProductStack> {
  const [database, temporal, emulator] = await Promise.all([
    createTestDatabase(),
    connectToTemporal(),
    startTestEmulator({ tenants: options.tenants, applications: options.applications }),
  ]);
  const people = await seedOrgs(database.db, options.prefix);
  const app = await startTestApp({ db: database.db, temporal: temporal.client, taskQueue: temporal.taskQueue, emulator, port: options.port });
  const worker: Worker = await createTestWorker({
    db: database.db,
    nativeConnection: temporal.nativeConnection,
    client: temporal.client,
    taskQueue: temporal.taskQueue,
    emulator,
  });
  const running = worker.run();
  return {
    database,
    temporal,
    emulator,
    app,
    people,
    stop: async () => {
      worker.shutdown();
      await running;
      await app.close();
      await emulator.close();
      await temporal.close();
      await database.drop();
    },
  };
}

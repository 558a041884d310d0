import type { Logger } from '../../lib/logger.js';
import type { TenantInput, WorldInput } from '../../emulator/model.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { createTestWorker, seedOrgs, startTestApp } from './app.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { startTestEmulator } from './emulator.js';
import { connectToTemporal } from './temporal.js';

export interface WorkerStack {
  database: TestDatabase;
  temporal: Awaited<ReturnType<typeof connectToTemporal>>;
  emulator: RunningEmulator;
  stop: () => Promise<void>;
}

export interface ProductStack extends WorkerStack {
  app: Awaited<ReturnType<typeof startTestApp>>;
  people: Awaited<ReturnType<typeof seedOrgs>>;
}

interface StackOptions {
  tenants?: TenantInput[];
  applications?: WorldInput['applications'];
}

/** The back end workflows run on: a database of the test's own, the run's Temporal dev server, the Entra emulator and the real worker. */
export async function startWorkerStack(options: StackOptions = {}): Promise<WorkerStack> {
  const [database, temporal, emulator] = await Promise.all([
    createTestDatabase(),
    connectToTemporal(),
    startTestEmulator({ tenants: options.tenants, applications: options.applications }),
  ]);
  const worker = await createTestWorker({
    db: database.db,
    nativeConnection: temporal.nativeConnection,
    client: temporal.client,
    taskQueue: temporal.taskQueue,
    emulator,
    databaseUrl: database.url,
  });
  const running = worker.run();
  return {
    database,
    temporal,
    emulator,
    stop: async () => {
      worker.shutdown();
      await running;
      await emulator.close();
      await temporal.close();
      await database.drop();
    },
  };
}

/**
 * The product as a person meets it: the worker stack, two orgs and their people, and the web app.
 */
export async function startProductStack(options: StackOptions & { prefix: string; port?: number; logger?: Logger; env?: Record<string, string> }): Promise<ProductStack> {
  const stack = await startWorkerStack(options);
  const people = await seedOrgs(stack.database.db, options.prefix);
  const app = await startTestApp({ db: stack.database.db, temporal: stack.temporal.client, taskQueue: stack.temporal.taskQueue, emulator: stack.emulator, port: options.port, logger: options.logger, env: options.env });
  return {
    ...stack,
    app,
    people,
    stop: async () => {
      await app.close();
      await stack.stop();
    },
  };
}

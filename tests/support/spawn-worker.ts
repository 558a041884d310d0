import type { ChildProcess } from 'node:child_process';
import { inject } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import type { TestDatabase } from './database.js';
import { startWorkerProcess } from './start-worker-process.js';

/**
 * The product's worker in a process of its own, for tests that kill it with SIGKILL; every
 * process started is added to `started`, for the test to end.
 */
export async function spawnWorker(started: ChildProcess[], { database, taskQueue, emulator }: { database: TestDatabase; taskQueue: string; emulator: RunningEmulator }): Promise<ChildProcess> {
  const { child, ready } = startWorkerProcess({ databaseUrl: database.url, temporalAddress: inject('temporalAddress'), taskQueue, emulatorUrl: emulator.httpsUrl, emulatorCaFile: emulator.caFile });
  started.push(child);
  await ready;
  return child;
}

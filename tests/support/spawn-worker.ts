import { spawn, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';
import type { RunningEmulator } from '../../emulator/server.js';
import { projectRoot } from '../../lib/paths.js';
import type { TestDatabase } from './database.js';

/**
 * The product's worker (tests/support/worker-process.ts) in a process of its own, for tests
 * that kill it with SIGKILL; every process started is added to `started`, for the test to end.
 */
export function spawnWorker(started: ChildProcess[], { database, taskQueue, emulator }: { database: TestDatabase; taskQueue: string; emulator: RunningEmulator }): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/worker-process.ts'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, DATABASE_URL: database.url, TEMPORAL_ADDRESS: inject('temporalAddress'), TASK_QUEUE: taskQueue, EMULATOR_URL: emulator.httpsUrl, EMULATOR_CA_FILE: emulator.caFile },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(child);
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('worker ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

import { spawn, type ChildProcess } from 'node:child_process';
import { projectRoot } from '../../lib/paths.js';

export interface WorkerProcessSettings {
  databaseUrl: string;
  temporalAddress: string;
  taskQueue: string;
  emulatorUrl: string;
  emulatorCaFile: string;
  /** Activity slots; Temporal's default when absent. */
  maxConcurrentActivities?: number;
}

/**
 * The product's worker (tests/support/worker-process.ts) in a process of its own: the child at
 * once (to kill, or to read its memory), and `ready` once it polls its task queue.
 */
export function startWorkerProcess(settings: WorkerProcessSettings): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/worker-process.ts'], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: settings.databaseUrl,
      TEMPORAL_ADDRESS: settings.temporalAddress,
      TASK_QUEUE: settings.taskQueue,
      EMULATOR_URL: settings.emulatorUrl,
      EMULATOR_CA_FILE: settings.emulatorCaFile,
      ...(settings.maxConcurrentActivities === undefined ? {} : { MAX_CONCURRENT_ACTIVITIES: String(settings.maxConcurrentActivities) }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('worker ready') && resolve());
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
  return { child, ready };
}

import { fileURLToPath } from 'node:url';
import type { NativeConnection} from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { workerTracing, type Tracing } from '../lib/tracing.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** The workflow interceptors of every bundle: this one and the prebuilt (worker/build-bundle.ts). */
export const workflowInterceptorModules = [fileURLToPath(new URL('../workflows/trace-context.ts', import.meta.url))];

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt bundle (production); without it the workflows are bundled from sources at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /**
   * Tests fail a workflow on non-determinism instead of letting its task retry for ever, so a
   * change to a workflow's commands that is not behind `patched()` breaks the run at once.
   * Production keeps the default: a stuck task waits for a fixed deploy, nothing is lost. Such
   * workers also keep no workflow in cache, so every task replays its history from the start:
   * a workflow that would not replay fails in the test that runs it.
   */
  failOnNondeterminism?: boolean;
  /** Activity slots: see workerTuning (lib/config.ts) for why they follow the database pool. */
  maxConcurrentActivities?: number;
  /** OpenTelemetry, when configured (lib/tracing.ts). */
  tracing?: Tracing;
}

/** One worker, one task queue: it hosts every workflow and activity of the product. */
export function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle === undefined ? { workflowsPath } : { workflowBundle: options.workflowBundle }),
    activities: createActivities(options.deps),
    interceptors: {
      activity: workerTracing(options.tracing),
      // A prebuilt bundle has them inside already (and the SDK would warn that it ignores these).
      ...(options.workflowBundle === undefined ? { workflowModules: workflowInterceptorModules } : {}),
    },
    ...(options.maxConcurrentActivities === undefined ? {} : { maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities }),
    ...(options.failOnNondeterminism ? { workflowFailureErrorTypes: { '*': ['NondeterminismError'] }, maxCachedWorkflows: 0 } : {}),
    // Let in-flight activities finish (they are idempotent, but a clean stop is cheaper).
    shutdownGraceTime: '10s',
    shutdownForceTime: '30s',
  });
}

// The sync workflow's activity proxies, one per timeout profile, and the failure helpers its steps share.
import { proxyActivities } from '@temporalio/workflow';
import type { createSyncActivities } from '../../activities/sync/index.js';
import { failureOf, FailureType, NON_RETRYABLE } from '../failures.js';

export type Activities = ReturnType<typeof createSyncActivities>;

export const DEFAULT_INTERVAL_MS = 5 * 60 * 1000;
export const DEFAULT_FULL_RECONCILE_MS = 24 * 60 * 60 * 1000;
// Groups are read twenty to an activity, four activities at a time (each reads twelve at once):
// a 1,000-group cycle is 50 activities, not 1,000, and its history stays a few hundred events.
export const GROUPS_PER_BATCH = 20;
export const BATCHES_IN_FLIGHT = 4;

// A read is retried with backoff; past its attempts a group keeps its last known members until
// the next cycle. Refusals a retry cannot fix are not retried. The heartbeat timeout is how fast
// a dead worker's read moves to another worker.
export const readActivities = (heartbeatTimeoutMs: number) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
  });
// Opening, probing and committing retry until they succeed; they heartbeat too, so a worker that
// dies in the middle of a commit hands it over within the heartbeat timeout, not minutes later.
export const stepActivities = (heartbeatTimeoutMs: number) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { maximumInterval: '1 minute' },
  });

export const REFUSALS: string[] = [FailureType.TokenRefused, FailureType.GraphRefused];

/** A failed step as the cycle records it: the message and the named type (workflows/failures.ts). */
export function stepFailure(error: unknown): { message: string; failureType?: FailureType } {
  const failure = failureOf(error);
  return { message: failure.message, failureType: failure.type };
}


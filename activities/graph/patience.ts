import { ApplicationFailure, sleep } from '@temporalio/activity';
import type { TenantGraph } from './clients.js';

/**
 * How long the sync keeps asking for one Graph resource that Graph keeps answering "come back
 * later" (429, or a 503/504 with Retry-After). Microsoft's guidance is to wait Retry-After and
 * send the request again, with no count; the Graph client stops after ten, which a storm
 * of refusals outlasts now and then. Time, not a count, is what an admin can wait for.
 */
export const GRAPH_PATIENCE_MS = 2 * 60 * 1000;

/**
 * The tenant's Graph for the sync's reads: a request Graph told to come back later is sent
 * again after the time it named, until `patienceMs` have passed since its first refusal; then its
 * failure goes to the activity's own retries as before. Refusals and outages without a
 * Retry-After are not waited out here. The wait is the activity's cancellable sleep.
 */
export function patientGraph(graph: TenantGraph, patienceMs = GRAPH_PATIENCE_MS): TenantGraph {
  return async (request) => {
    let giveUpAt: number | undefined;
    for (;;) {
      try {
        return await graph(request);
      } catch (error) {
        const delayMs = error instanceof ApplicationFailure && !error.nonRetryable && typeof error.nextRetryDelay === 'number' ? error.nextRetryDelay : undefined;
        giveUpAt ??= Date.now() + patienceMs;
        if (delayMs === undefined || Date.now() + delayMs > giveUpAt) throw error;
        await sleep(delayMs);
      }
    }
  };
}

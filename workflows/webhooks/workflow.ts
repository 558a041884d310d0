import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { createWebhookActivities } from '../../activities/webhooks/index.js';
import { endpointChangedSignal, type WebhookDeliveryInput } from './messages.js';

type Activities = ReturnType<typeof createWebhookActivities>;

// A receiver that fails is retried with backoff for as long as it takes (up to 5 minutes between
// attempts): the events wait in the feed, in order, and nothing moves on until they are taken.
// The heartbeat timeout is how soon a dead worker's delivery moves to another worker.
const delivery = (heartbeatTimeoutMs: number) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
  });
// Waiting for new events is a long poll (PostgreSQL's NOTIFY), heartbeating while it waits.
const { waitForEvents } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { maximumInterval: '10 seconds' },
});

export const WAIT_MS = 30_000;
const ROUNDS_PER_RUN = 500;

/**
 * Delivers one endpoint's events, in the feed's order, for as long as the endpoint exists: send
 * what is pending, wait for more, again. Paused, it waits for the admin to resume. Its history
 * holds counts only; the events and the endpoint's position live in PostgreSQL.
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<void> {
  const { deliverPending } = delivery(input.heartbeatTimeoutMs ?? 30_000);
  let changed = false;
  setHandler(endpointChangedSignal, () => void (changed = true));
  for (let round = 0; round < ROUNDS_PER_RUN && !workflowInfo().continueAsNewSuggested; round++) {
    const result = await deliverPending(input.endpointId);
    if (result.state === 'deleted') return;
    if (result.state === 'paused') {
      await condition(() => changed);
      changed = false;
      continue;
    }
    if (!result.more) {
      changed = false;
      await waitForEvents(input.endpointId, WAIT_MS);
    }
  }
  await continueAsNew<typeof webhookDeliveryWorkflow>(input);
}

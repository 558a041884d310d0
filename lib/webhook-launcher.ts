import type { Client } from '@temporalio/client';
import type { Db } from '../db/client.js';
import { activeWebhookEndpoints } from '../db/repositories/webhooks.js';
import { endpointChangedSignal, webhookWorkflowId, WEBHOOK_DELIVERY_WORKFLOW, type WebhookDeliveryInput } from '../workflows/webhooks/messages.js';

/**
 * Starts an endpoint's delivery workflow if it is not running, and tells it to look again (the
 * endpoint was created, paused, resumed or deleted): signal-with-start, so it works either way.
 */
export function wakeDelivery(temporal: Client, taskQueue: string, endpointId: string, settings: Omit<WebhookDeliveryInput, 'endpointId'> = {}) {
  return temporal.workflow.signalWithStart(WEBHOOK_DELIVERY_WORKFLOW, {
    workflowId: webhookWorkflowId(endpointId),
    taskQueue,
    args: [{ endpointId, ...settings }],
    signal: endpointChangedSignal,
    signalArgs: [],
  });
}

/**
 * Every active endpoint has its workflow: run when a worker starts, so an endpoint whose
 * workflow never started (Temporal unreachable at the moment it was created) or was terminated
 * by an operator is delivered to again.
 */
export async function ensureDeliveries(temporal: Client, taskQueue: string, db: Db): Promise<number> {
  const endpoints = await activeWebhookEndpoints(db);
  for (const endpoint of endpoints) await wakeDelivery(temporal, taskQueue, endpoint.id);
  return endpoints.length;
}

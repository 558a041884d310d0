import { defineSignal } from '@temporalio/workflow';

/** The workflow's type name, as clients start it (the exported function's name). */
export const WEBHOOK_DELIVERY_WORKFLOW = 'webhookDeliveryWorkflow';

/** One delivery workflow per webhook endpoint, with a stable, readable id. */
export const webhookWorkflowId = (endpointId: string) => `webhook-${endpointId}`;

export interface WebhookDeliveryInput {
  endpointId: string;
  /** How long a delivery may go without a heartbeat before another worker takes it (30 s; a receiver has 10 s to answer). */
  heartbeatTimeoutMs?: number;
}

/**
 * The endpoint changed in Settings (paused, resumed, deleted): look again now. A signal, not an
 * update: the page has nothing to wait for, the database already says what the admin chose.
 */
export const endpointChangedSignal = defineSignal('endpointChanged');

/** What one delivery activity did, and what the endpoint is now. */
export interface DeliveryResult {
  state: 'active' | 'paused' | 'deleted';
  delivered: number;
  /** Stopped for time with events still waiting. */
  more: boolean;
}

import { ApplicationFailure, Context, heartbeat } from '@temporalio/activity';
import type { Db } from '../../db/client.js';
import { eventsAfter, pendingEvents, type EventRow } from '../../db/repositories/events.js';
import { advanceWebhook, endpointForDelivery, recordWebhookFailure } from '../../db/repositories/webhooks.js';
import { publicEvent } from '../../lib/event-shape.js';
import type { EventsListener } from '../../lib/events-listener.js';
import { isSealed, type SecretBox } from '../../lib/secret-box.js';
import { deliveryTargetProblem, postDelivery, SIGNATURE_HEADER, signWebhook, type Resolver } from '../../lib/webhooks.js';
import type { DeliveryResult } from '../../workflows/webhooks/messages.js';

/** Events in one POST: a first sync's thousands go in order, a hundred at a time. */
export const WEBHOOK_BATCH = 100;

export interface WebhookDeps {
  db: Db;
  /** Deliveries to loopback and private addresses: for local development and tests only. */
  allowPrivateTargets?: boolean;
  /** How long a receiver may take to answer (10 s). */
  timeoutMs?: number;
  /** Wakes waiting deliveries on commit; without it they look every half second. */
  listener?: EventsListener;
  /** With the listener, how often a waiting delivery looks anyway (5 s). */
  lookAgainMs?: number;
  /**
   * While its org's events wait behind another org's transaction, it looks again after 100 ms,
   * then twice as long each time up to 1.6 s: a short transaction is waited for briefly, and a
   * minute-long one costs a few dozen looks, not six hundred.
   */
  heldBackLookMs?: { first: number; most: number };
  /** How receivers' names resolve (DNS); tests stand in for it. */
  resolver?: Resolver;
  /** Opens the endpoints' sealed signing secrets (DATA_ENCRYPTION_KEY). */
  secrets?: SecretBox;
}

/** A delivery's outcome for the endpoint's row and the activity's failure. */
function failure(status: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'WebhookNotAcknowledged', message: `The endpoint did not acknowledge the delivery: ${status}` });
}

export function createWebhookActivities({ db, allowPrivateTargets = false, timeoutMs = 10_000, listener, lookAgainMs = 5_000, heldBackLookMs = { first: 100, most: 1_600 }, resolver, secrets }: WebhookDeps) {
  const position = (endpoint: { position_tx: string; position_id: string }) => ({ tx: endpoint.position_tx, id: endpoint.position_id });

  /** The endpoint's signing secret, opened; or why it cannot be (shown in Settings as its last answer). */
  function secretOf(endpoint: { org_id: string; secret: string }): string | { problem: string } {
    if (!isSealed(endpoint.secret)) return endpoint.secret; // stored before sealing: the worker seals it as it starts
    if (!secrets) return { problem: 'this worker has no DATA_ENCRYPTION_KEY to open the signing secret' };
    try {
      return secrets.open(endpoint.secret, endpoint.org_id);
    } catch (error) {
      return { problem: (error as Error).message };
    }
  }

  /** POSTs one signed batch; the receiver's status, or 'timeout' / 'no answer' / 'refused: …'. */
  async function send(url: string, secret: string, events: EventRow[]): Promise<string> {
    const body = JSON.stringify({ data: events.map(publicEvent) });
    const timeout = AbortSignal.timeout(timeoutMs);
    const headers = {
      'Content-Type': 'application/json',
      'User-Agent': 'Hook-Webhooks/1',
      [SIGNATURE_HEADER]: signWebhook(secret, body, Math.floor(Date.now() / 1000)),
      'Hook-Event-Count': String(events.length),
    };
    try {
      const status = await postDelivery(url, body, headers, { allowPrivate: allowPrivateTargets, resolver, signal: AbortSignal.any([timeout, Context.current().cancellationSignal]) });
      return String(status);
    } catch (error) {
      if (timeout.aborted) return 'timeout';
      return error instanceof Error && error.message.startsWith('refused: ') ? error.message : 'no answer';
    }
  }

  return {
    /**
     * Sends the endpoint's pending events, oldest first, a batch per POST, each signed; moves the
     * endpoint's position only after a 2xx. A receiver that fails (an error status, a timeout, no
     * answer) fails the attempt and Temporal retries it with backoff: the same events again, with
     * the same ids. Stops after 20 s with events left (`more`), so the workflow's history grows slowly.
     */
    async deliverPending(endpointId: string): Promise<DeliveryResult> {
      const started = Date.now();
      let delivered = 0;
      for (;;) {
        const endpoint = await endpointForDelivery(db, endpointId);
        if (!endpoint || endpoint.deleted_at !== null) return { state: 'deleted', delivered, more: false };
        if (endpoint.paused) return { state: 'paused', delivered, more: false };
        const events = await eventsAfter(db, endpoint.org_id, { after: position(endpoint), types: endpoint.event_types, limit: WEBHOOK_BATCH });
        if (events.length === 0) return { state: 'active', delivered, more: false };
        // Refused, an error status, a timeout, no answer: one way to fail, recorded, and retried by Temporal.
        const refused = await deliveryTargetProblem(endpoint.url, { allowPrivate: allowPrivateTargets, resolver });
        const secret = secretOf(endpoint);
        const status = refused ? `refused: ${refused}` : typeof secret === 'object' ? `not sent: ${secret.problem}` : await send(endpoint.url, secret, events);
        if (!/^2\d\d$/.test(status)) {
          await recordWebhookFailure(db, endpointId, status, new Date());
          throw failure(status);
        }
        await advanceWebhook(db, endpointId, events.at(-1)!, events.length, status, new Date());
        delivered += events.length;
        heartbeat(delivered);
        if (Date.now() - started > 20_000) return { state: 'active', delivered, more: true };
      }
    },

    /**
     * Returns once the endpoint has events to send (or is paused or deleted), or after `timeoutMs`:
     * woken by PostgreSQL's NOTIFY on commit (listened for before each look, so none is missed),
     * looking again every few seconds in case the listener lost its connection, and sooner
     * (`heldBackLookMs`) while the org's committed events wait behind another org's transaction,
     * whose end no NOTIFY of this org announces.
     */
    async waitForEvents(endpointId: string, timeoutMs: number): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      const cancelled = Context.current().cancellationSignal;
      let heldBackNap = heldBackLookMs.first;
      while (Date.now() < deadline && !cancelled.aborted) {
        const endpoint = await endpointForDelivery(db, endpointId);
        if (!endpoint || endpoint.deleted_at !== null || endpoint.paused) return;
        const watch = await listener?.watch(endpoint.org_id);
        try {
          const { ready, heldBack } = await pendingEvents(db, endpoint.org_id, { after: position(endpoint), types: endpoint.event_types });
          if (ready) return;
          heartbeat();
          const nap = Math.min(deadline - Date.now(), heldBack ? heldBackNap : watch ? lookAgainMs : 500);
          heldBackNap = heldBack ? Math.min(heldBackNap * 2, heldBackLookMs.most) : heldBackLookMs.first;
          if (watch) await watch.wait(nap, cancelled);
          else await new Promise((resolve) => setTimeout(resolve, nap));
        } finally {
          watch?.stop();
        }
      }
    },
  };
}

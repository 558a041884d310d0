import type { EventRow, FeedPosition } from '../db/repositories/events.js';

// One shape for an event, wherever it goes: the events feed (/api/v1/events) and webhook deliveries.

/** An opaque position in the feed, as clients pass it back in `after`. */
export const eventCursor = (position: FeedPosition) => Buffer.from(JSON.stringify([position.tx, position.id])).toString('base64url');

export interface PublicEvent {
  id: string;
  cursor: string;
  type: string;
  occurredAt: string;
  connectionId: string;
  runId: string | null;
  data: Record<string, unknown>;
}

export const publicEvent = (row: EventRow): PublicEvent => ({
  id: row.id,
  cursor: eventCursor(row),
  type: row.type,
  occurredAt: row.occurred_at.toISOString(),
  connectionId: row.connection_id,
  runId: row.run_id,
  data: row.data,
});

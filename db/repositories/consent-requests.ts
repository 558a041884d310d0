import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

export async function createConsentRequest(
  db: Kysely<Database>,
  request: { stateHash: string; sessionHash: string; orgId: string; workflowId: string; ttlMs: number },
): Promise<void> {
  await db
    .insertInto('consent_requests')
    .values({
      state_hash: request.stateHash,
      session_hash: request.sessionHash,
      org_id: request.orgId,
      workflow_id: request.workflowId,
      expires_at: new Date(Date.now() + request.ttlMs),
    })
    .execute();
}

/**
 * Uses a state once: succeeds only for an unused, unexpired state issued to this session.
 * The single UPDATE makes a replay (or two racing callbacks) find nothing.
 */
export function consumeConsentRequest(db: Kysely<Database>, stateHash: string, sessionHash: string) {
  return db
    .updateTable('consent_requests')
    .set({ used_at: sql<Date>`now()` })
    .where('state_hash', '=', stateHash)
    .where('session_hash', '=', sessionHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .returning(['org_id', 'workflow_id'])
    .executeTakeFirst();
}

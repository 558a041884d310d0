import { sql, type Insertable, type Kysely } from 'kysely';
import type { ConsentRequestsTable, Database } from '../schema.js';

interface RequestBinding {
  stateHash: string;
  sessionHash: string;
  orgId: string;
  workflowId: string;
  ttlMs: number;
}

type PhaseColumns = Pick<Insertable<ConsentRequestsTable>, 'phase'> & Partial<Pick<Insertable<ConsentRequestsTable>, 'redirect_uri' | 'nonce' | 'code_verifier' | 'proven_tenant_id'>>;

async function insertRequest(db: Kysely<Database>, binding: RequestBinding, phase: PhaseColumns): Promise<void> {
  await db
    .insertInto('consent_requests')
    .values({
      state_hash: binding.stateHash,
      session_hash: binding.sessionHash,
      org_id: binding.orgId,
      workflow_id: binding.workflowId,
      expires_at: new Date(Date.now() + binding.ttlMs),
      ...phase,
    })
    .execute();
}

/** The sign-in trip of Connect: its nonce and PKCE verifier stay here, never in a URL or a log. */
export function createSignInRequest(db: Kysely<Database>, request: RequestBinding & { redirectUri: string; nonce: string; codeVerifier: string }): Promise<void> {
  return insertRequest(db, request, { phase: 'sign_in', redirect_uri: request.redirectUri, nonce: request.nonce, code_verifier: request.codeVerifier });
}

/** The admin-consent trip, bound to the tenant the sign-in proved. */
export function createAdminConsentRequest(db: Kysely<Database>, request: RequestBinding & { provenTenantId: string }): Promise<void> {
  return insertRequest(db, request, { phase: 'consent', proven_tenant_id: request.provenTenantId });
}

/**
 * Uses a state once: succeeds only for an unused, unexpired state issued to this session (rows
 * of the flow before tenant proof, phase 'legacy', are never accepted). The single UPDATE makes a
 * replay, or two racing callbacks, find nothing.
 */
export function consumeConsentRequest(db: Kysely<Database>, stateHash: string, sessionHash: string) {
  return db
    .updateTable('consent_requests')
    .set({ used_at: sql<Date>`now()` })
    .where('state_hash', '=', stateHash)
    .where('session_hash', '=', sessionHash)
    .where('used_at', 'is', null)
    .where('phase', 'in', ['sign_in', 'consent'])
    .where('expires_at', '>', sql<Date>`now()`)
    .returning(['org_id', 'workflow_id', 'phase', 'proven_tenant_id'])
    .executeTakeFirst();
}

/** Keeps the authorization code the callback received until the worker redeems it. */
export async function holdAuthorizationCode(db: Kysely<Database>, stateHash: string, code: string): Promise<void> {
  await db.updateTable('consent_requests').set({ code }).where('state_hash', '=', stateHash).where('phase', '=', 'sign_in').execute();
}

/** What the worker needs to redeem the code, and the proof if an earlier attempt recorded it. */
export function signInToRedeem(db: Kysely<Database>, stateHash: string) {
  return db
    .selectFrom('consent_requests')
    .select(['workflow_id', 'redirect_uri', 'nonce', 'code_verifier', 'code', 'proven_tenant_id', 'proven_user'])
    .where('state_hash', '=', stateHash)
    .where('phase', '=', 'sign_in')
    .executeTakeFirst();
}

/** The proof, kept for the audit trail; the code and the verifier are of no more use and go. */
export async function recordSignInProof(db: Kysely<Database>, stateHash: string, proof: { tenantId: string; user: string }): Promise<void> {
  await db
    .updateTable('consent_requests')
    .set({ proven_tenant_id: proof.tenantId, proven_user: proof.user, proven_at: sql<Date>`now()`, code: null, code_verifier: null })
    .where('state_hash', '=', stateHash)
    .execute();
}

/** A refused sign-in: its code and verifier go too. */
export async function forgetSignInSecrets(db: Kysely<Database>, stateHash: string): Promise<void> {
  await db.updateTable('consent_requests').set({ code: null, code_verifier: null }).where('state_hash', '=', stateHash).execute();
}

/** Requests past their expiry (a day of grace keeps the audit trail of recent Connects). */
export async function deleteExpiredConsentRequests(db: Kysely<Database>): Promise<number> {
  const result = await db.deleteFrom('consent_requests').where('expires_at', '<', sql<Date>`now() - interval '1 day'`).executeTakeFirst();
  return Number(result.numDeletedRows);
}

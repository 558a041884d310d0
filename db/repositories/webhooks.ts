import { sql, type Kysely } from 'kysely';
import { isSealed, type SecretBox } from '../../lib/secret-box.js';
import { newWebhookSecret } from '../../lib/webhooks.js';
import type { Database } from '../schema.js';
import { feedEnd, type FeedPosition } from './events.js';

type Db = Kysely<Database>;

const LISTED = ['id', 'url', 'event_types', 'paused', 'created_at', 'delivered_count', 'last_attempt_at', 'last_success_at', 'last_status', 'failing_since'] as const;

/** Webhook signing secrets are sealed with their org as the context (lib/secret-box.ts). */
export const WEBHOOK_SECRETS = 'webhook signing secrets';

/**
 * A new endpoint starts at the end of the org's feed (it gets what happens from now on); its
 * secret is returned once and stored sealed.
 */
export async function createWebhookEndpoint(db: Db, endpoint: { orgId: string; url: string; eventTypes: string[]; createdBy: string | null }, secrets: SecretBox) {
  const start = (await feedEnd(db, endpoint.orgId)) ?? { tx: '0', id: '0' };
  const secret = newWebhookSecret();
  const row = await db
    .insertInto('webhook_endpoints')
    .values({ org_id: endpoint.orgId, url: endpoint.url, event_types: endpoint.eventTypes, secret: secrets.seal(secret, endpoint.orgId), created_by: endpoint.createdBy, position_tx: start.tx, position_id: start.id })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, secret };
}

/**
 * Which signing secret an endpoint holds, for a page to send back with "Roll secret": a digest of
 * the stored (sealed) value, which tells nothing of the secret but changes with every roll.
 */
const secretVersion = sql<string>`substr(encode(sha256(convert_to(secret, 'UTF8')), 'hex'), 1, 16)`;

/** The org's endpoints for Settings (never their secrets; the version of each). */
export function listWebhookEndpoints(db: Db, orgId: string) {
  return db.selectFrom('webhook_endpoints').select([...LISTED, secretVersion.as('secret_version')]).where('org_id', '=', orgId).where('deleted_at', 'is', null).orderBy('created_at').execute();
}

/**
 * Gives one of the org's endpoints a new signing secret, returned once and stored sealed; the old
 * one signs nothing from now on. Only if the endpoint still holds the secret `seenVersion` names
 * (what the admin's page showed): a roll another admin made meanwhile is not rolled over unseen.
 */
export async function rollWebhookSecret(db: Db, endpoint: { orgId: string; id: string; seenVersion: string }, secrets: SecretBox): Promise<{ rolled: { url: string; secret: string } } | 'missing' | 'changed'> {
  const secret = newWebhookSecret();
  const row = await db
    .updateTable('webhook_endpoints')
    .set({ secret: secrets.seal(secret, endpoint.orgId) })
    .where('org_id', '=', endpoint.orgId)
    .where('id', '=', endpoint.id)
    .where('deleted_at', 'is', null)
    .where(secretVersion, '=', endpoint.seenVersion)
    .returning('url')
    .executeTakeFirst();
  if (row !== undefined) return { rolled: { url: row.url, secret } };
  const exists = await db.selectFrom('webhook_endpoints').select('id').where('org_id', '=', endpoint.orgId).where('id', '=', endpoint.id).where('deleted_at', 'is', null).executeTakeFirst();
  return exists === undefined ? 'missing' : 'changed';
}

/** Pause or resume one of the org's endpoints; false when the org has no such endpoint. */
export async function setWebhookPaused(db: Db, orgId: string, id: string, paused: boolean): Promise<boolean> {
  const result = await db.updateTable('webhook_endpoints').set({ paused }).where('org_id', '=', orgId).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteWebhookEndpoint(db: Db, orgId: string, id: string): Promise<boolean> {
  const result = await db.updateTable('webhook_endpoints').set({ deleted_at: new Date() }).where('org_id', '=', orgId).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Seals under the current key the secrets stored in clear (before sealing existed) and those
 * sealed under the previous key (during a key rotation); the worker does it as it starts.
 * Returns how many. A row another process sealed meanwhile is left as it is.
 */
export async function sealStoredWebhookSecrets(db: Db, secrets: SecretBox): Promise<number> {
  const rows = await db.selectFrom('webhook_endpoints').select(['id', 'org_id', 'secret']).execute();
  let sealed = 0;
  for (const row of rows.filter((row) => secrets.needsSealing(row.secret, row.org_id))) {
    const plain = isSealed(row.secret) ? secrets.open(row.secret, row.org_id) : row.secret;
    const result = await db.updateTable('webhook_endpoints').set({ secret: secrets.seal(plain, row.org_id) }).where('id', '=', row.id).where('secret', '=', row.secret).executeTakeFirst();
    sealed += Number(result.numUpdatedRows);
  }
  return sealed;
}

/** Everything the delivery needs, the sealed secret included: for the worker only. */
export function endpointForDelivery(db: Db, id: string) {
  return db
    .selectFrom('webhook_endpoints')
    .select(['id', 'org_id', 'url', 'event_types', 'secret', 'paused', 'deleted_at', sql<string>`position_tx::text`.as('position_tx'), sql<string>`position_id::text`.as('position_id')])
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * The receiver acknowledged the events up to `to`: the endpoint moves there, never back (a
 * delivery repeated after a crash finds it further along already).
 */
export async function advanceWebhook(db: Db, id: string, to: FeedPosition, delivered: number, status: string, now: Date): Promise<void> {
  await sql`update webhook_endpoints set position_tx = ${to.tx}::xid8, position_id = ${to.id}::bigint,
      delivered_count = delivered_count + ${delivered}, last_attempt_at = ${now}, last_success_at = ${now}, last_status = ${status}, failing_since = null
    where id = ${id} and (position_tx, position_id) < (${to.tx}::xid8, ${to.id}::bigint)`.execute(db);
}

/** An attempt the receiver did not acknowledge: what it answered, and since when it fails. */
export async function recordWebhookFailure(db: Db, id: string, status: string, now: Date): Promise<void> {
  await db.updateTable('webhook_endpoints').set((eb) => ({ last_attempt_at: now, last_status: status, failing_since: eb.fn.coalesce('failing_since', eb.val(now)) })).where('id', '=', id).execute();
}

/** Active endpoints, for the worker to make sure each has its delivery workflow. */
export function activeWebhookEndpoints(db: Db) {
  return db.selectFrom('webhook_endpoints').select(['id', 'org_id']).where('deleted_at', 'is', null).where('paused', '=', false).execute();
}

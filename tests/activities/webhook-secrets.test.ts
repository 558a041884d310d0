import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookActivities } from '../../activities/webhooks/index.js';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { createWebhookEndpoint, sealStoredWebhookSecrets, WEBHOOK_SECRETS } from '../../db/repositories/webhooks.js';
import { secretBox, type SecretBox } from '../../lib/secret-box.js';
import { verifyWebhook } from '../../lib/webhooks.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startReceiver } from '../support/receiver.js';
import { TEST_DATA_KEY, testWebhookSecrets } from '../support/secrets.js';

/**
 * Webhook signing secrets are stored sealed (DATA_ENCRYPTION_KEY): a copy of the database gives
 * nobody a secret to sign forged deliveries with, and the secret an admin was shown still signs.
 */
describe('webhook signing secrets at rest', () => {
  let database: TestDatabase;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const orgs: Array<{ orgId: string; connectionId: string }> = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    receiver = await startReceiver();
    for (const name of ['Acme', 'Globex']) {
      const orgId = await createOrgCommand(database.db, `sealed-${name.toLowerCase()}`, name);
      orgs.push({ orgId, connectionId: await upsertConnection(database.db, { orgId, tenantId: randomUUID(), tenantName: name, verifiedDomains: [] }) });
    }
  });
  afterAll(async () => {
    await receiver.close();
    await database.drop();
  });

  const stored = async (id: string) => (await database.db.selectFrom('webhook_endpoints').select('secret').where('id', '=', id).executeTakeFirstOrThrow()).secret;
  /** One delivery attempt with one event waiting; the failure message if it failed, and what reached the receiver. */
  async function deliver(id: string, org: { connectionId: string }, worker: { secrets?: SecretBox } = { secrets: testWebhookSecrets }) {
    await database.db.insertInto('directory_users').values({ connection_id: org.connectionId, user_id: randomUUID(), display_name: 'New' }).execute();
    const before = receiver.received.length;
    const activities = createWebhookActivities({ db: database.db, allowPrivateTargets: true, timeoutMs: 2_000, ...worker });
    const failure = await new MockActivityEnvironment().run((endpointId: string) => activities.deliverPending(endpointId), id).then(
      () => undefined,
      (error: Error) => error.message,
    );
    return { failure, received: receiver.received.slice(before) };
  }

  it('the database holds the secret only sealed, and the secret the admin was shown signs the deliveries', async () => {
    const { id, secret } = await createWebhookEndpoint(database.db, { orgId: orgs[0]!.orgId, url: receiver.url, eventTypes: [], createdBy: null }, testWebhookSecrets);
    expect(await stored(id)).toMatch(/^sealed:v1:/);
    expect(await stored(id)).not.toContain(secret.slice('whsec_'.length));
    const { failure, received } = await deliver(id, orgs[0]!);
    expect(failure).toBeUndefined();
    expect(received).toHaveLength(1);
    expect(verifyWebhook(secret, received[0]!.body, received[0]!.signature)).toBe(true);
  });

  it('a secret stored in clear before sealing still signs, and is sealed when the worker starts', async () => {
    const { id } = await createWebhookEndpoint(database.db, { orgId: orgs[0]!.orgId, url: receiver.url, eventTypes: [], createdBy: null }, testWebhookSecrets);
    const plain = 'whsec_stored-in-clear-by-an-earlier-version-0123456789';
    await database.db.updateTable('webhook_endpoints').set({ secret: plain }).where('id', '=', id).execute();
    const early = await deliver(id, orgs[0]!);
    expect(early.failure).toBeUndefined();
    expect(verifyWebhook(plain, early.received[0]!.body, early.received[0]!.signature)).toBe(true);

    expect(await sealStoredWebhookSecrets(database.db, testWebhookSecrets)).toBe(1);
    expect(await sealStoredWebhookSecrets(database.db, testWebhookSecrets)).toBe(0); // once
    expect(await stored(id)).not.toContain(plain.slice('whsec_'.length));
    const later = await deliver(id, orgs[0]!);
    expect(later.failure).toBeUndefined();
    expect(verifyWebhook(plain, later.received[0]!.body, later.received[0]!.signature)).toBe(true);
  });

  it('a key rotation: with the old key as the previous one, deliveries still sign, and the worker’s start seals every secret under the new key', async () => {
    const { id, secret } = await createWebhookEndpoint(database.db, { orgId: orgs[0]!.orgId, url: receiver.url, eventTypes: [], createdBy: null }, testWebhookSecrets);
    const rotated = secretBox('a-new-data-encryption-key-0123456789-abcdefgh', WEBHOOK_SECRETS, TEST_DATA_KEY);
    const during = await deliver(id, orgs[0]!, { secrets: rotated });
    expect(during.failure).toBeUndefined();
    expect(verifyWebhook(secret, during.received[0]!.body, during.received[0]!.signature)).toBe(true);

    expect(await sealStoredWebhookSecrets(database.db, rotated)).toBeGreaterThanOrEqual(1);
    expect(await sealStoredWebhookSecrets(database.db, rotated)).toBe(0);
    const after = await deliver(id, orgs[0]!, { secrets: secretBox('a-new-data-encryption-key-0123456789-abcdefgh', WEBHOOK_SECRETS) }); // the previous key gone
    expect(after.failure).toBeUndefined();
    expect(verifyWebhook(secret, after.received[0]!.body, after.received[0]!.signature)).toBe(true);
    const stale = await deliver(id, orgs[0]!); // a worker still on the old key
    expect(stale.failure).toMatch(/not sent: a stored secret does not open with DATA_ENCRYPTION_KEY/);
  });

  it('a sealed secret copied into another org’s endpoint does not open there: nothing is sent', async () => {
    const acme = await createWebhookEndpoint(database.db, { orgId: orgs[0]!.orgId, url: receiver.url, eventTypes: [], createdBy: null }, testWebhookSecrets);
    const globex = await createWebhookEndpoint(database.db, { orgId: orgs[1]!.orgId, url: receiver.url, eventTypes: [], createdBy: null }, testWebhookSecrets);
    await database.db.updateTable('webhook_endpoints').set({ secret: await stored(acme.id) }).where('id', '=', globex.id).execute();
    const { failure, received } = await deliver(globex.id, orgs[1]!);
    expect(failure).toBe('The endpoint did not acknowledge the delivery: not sent: a stored secret does not open with DATA_ENCRYPTION_KEY: the key changed, or the value was moved to another row');
    expect(received).toEqual([]);
    const row = await database.db.selectFrom('webhook_endpoints').select(['last_status', 'failing_since']).where('id', '=', globex.id).executeTakeFirstOrThrow();
    expect(row.last_status).toMatch(/^not sent: /);
    expect(row.failing_since).not.toBeNull();
  });

  it('a worker without the key sends nothing, and says why', async () => {
    const { id } = await createWebhookEndpoint(database.db, { orgId: orgs[0]!.orgId, url: receiver.url, eventTypes: [], createdBy: null }, testWebhookSecrets);
    const { failure, received } = await deliver(id, orgs[0]!, {});
    expect(failure).toBe('The endpoint did not acknowledge the delivery: not sent: this worker has no DATA_ENCRYPTION_KEY to open the signing secret');
    expect(received).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { eventsAfter } from '../../db/repositories/events.js';
import { DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import { ensureDeliveries } from '../../lib/webhook-launcher.js';
import { verifyWebhook } from '../../lib/webhooks.js';
import { createWebhookEndpoint, deleteWebhookEndpoint } from '../../db/repositories/webhooks.js';
import { paths } from '../../web/paths.js';
import { webhookWorkflowId } from '../../workflows/webhooks/messages.js';
import { Browser } from '../support/app.js';
import { startReceiver } from '../support/receiver.js';
import { startProductStack, type ProductStack } from '../support/stack.js';
import { syncHarness, type SyncHarness } from '../support/sync.js';
import { waitFor } from '../support/wait.js';
import { testWebhookSecrets } from '../support/secrets.js';

const group = (key: string) => stableId('northwind', 'group', key);
const user = (name: string) => stableId('northwind', 'user', name);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Webhooks as a customer's receiver meets them: every change event, signed, in the feed's order,
 * again (same ids) after a 500 or a timeout until acknowledged; paused and resumed by an admin;
 * out of reach of another org's admin.
 */
describe('webhooks: signed, ordered, retried deliveries of the change events', () => {
  let stack: ProductStack;
  let admin: Browser;
  let outsider: Browser;
  let sync: SyncHarness;
  let acmeOrg: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let secret: string;
  let endpointId: string;
  const db = () => stack.database.db;
  const orgEvents = async () => (await eventsAfter(db(), acmeOrg, { limit: 100_000 })).map((event) => event.id);

  beforeAll(async () => {
    stack = await startProductStack({ prefix: 'webhooks', tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }])], env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });
    acmeOrg = (await findOrgBySlug(db(), stack.people.acme))!.id;
    const connectionId = await upsertConnection(db(), { orgId: acmeOrg, tenantId: DEMO_TENANT_ID, tenantName: 'Northwind Outfitters', verifiedDomains: [] });
    sync = syncHarness({ db: db(), client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, orgId: acmeOrg, connectionId, tenantId: DEMO_TENANT_ID });
    admin = new Browser(stack.app.url);
    await admin.signIn(stack.people.admin.email);
    outsider = new Browser(stack.app.url);
    await outsider.signIn(stack.people.outsider.email);
    // Two 500s, then an answer too slow for the 2 s timeout, then 2xx.
    receiver = await startReceiver((request) => (request < 2 ? { status: 500 } : request === 2 ? { status: 200, delayMs: 4_000 } : { status: 204 }));
  }, 240_000);
  afterAll(async () => {
    await sync?.terminate();
    await receiver?.close();
    await stack?.stop();
  });

  it('delivers every event in the order of the feed, each delivery signed; after 500s and a timeout the same events come again, with backoff', async () => {
    await admin.request(paths.webhooks);
    const created = await admin.post(paths.webhooks, { url: receiver.url });
    expect(created.status).toBe(200);
    expect(created.headers.get('cache-control')).toBe('no-store');
    secret = /id="new-secret"[^>]*value="(whsec_[\w-]{43})"/.exec(created.text)![1]!;
    endpointId = (await db().selectFrom('webhook_endpoints').select('id').executeTakeFirstOrThrow()).id;

    await sync.syncGroups([group('finance'), group('sales')]);
    await sync.cycle();
    const expected = await orgEvents();
    expect(expected.length).toBeGreaterThan(20);
    await waitFor(() => Promise.resolve(receiver.acknowledged().length === expected.length ? true : undefined), 'every event to be acknowledged', 60_000);
    expect(receiver.acknowledged()).toEqual(expected);

    const [first, second, third] = receiver.received;
    expect([first!.answered, second!.answered, third!.answered]).toEqual([500, 500, 'timeout']);
    for (const retry of [second!, third!]) expect(retry.ids.slice(0, first!.ids.length)).toEqual(first!.ids); // the same events, the same ids
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900); // Temporal's backoff: 1 s, then 2 s
    expect(third!.at - second!.at).toBeGreaterThanOrEqual(1_900);
    for (const delivery of receiver.received) expect(verifyWebhook(secret, delivery.body, delivery.signature)).toBe(true);
    expect(verifyWebhook(secret, first!.body.replace('"data"', '"Data"'), first!.signature)).toBe(false); // a body changed on the way
    expect(verifyWebhook(`${secret}x`, first!.body, first!.signature)).toBe(false);

    const settings = await admin.request(paths.webhooks);
    expect(settings.text).toContain(`${expected.length.toLocaleString('en-US')} events delivered`);
    expect(/data-status>204</.test(settings.text)).toBe(true);
  });

  it('paused, events wait in order; resumed, they arrive; deleted, nothing more is sent and its workflow ends', async () => {
    expect((await admin.post(paths.webhookAction(endpointId, 'pause'))).status).toBe(303);
    const before = receiver.received.length;
    stack.emulator.directory.findTenant(DEMO_TENANT_ID)!.updateUser(user('Ravi Patel'), { displayName: 'Ravi Patel-Shah' });
    await sync.cycle();
    await pause(1_500);
    expect(receiver.received.length).toBe(before);

    expect((await admin.post(paths.webhookAction(endpointId, 'resume'))).status).toBe(303);
    const expected = await orgEvents();
    await waitFor(() => Promise.resolve(receiver.acknowledged().length === expected.length ? true : undefined), 'the waiting events after resume', 30_000);
    expect(receiver.acknowledged()).toEqual(expected);

    expect((await admin.post(paths.webhookAction(endpointId, 'delete'))).status).toBe(303);
    await waitFor(async () => ((await stack.temporal.client.workflow.getHandle(webhookWorkflowId(endpointId)).describe()).status.name === 'COMPLETED' ? true : undefined), 'the delivery workflow to end', 30_000);
    const after = receiver.received.length;
    stack.emulator.directory.findTenant(DEMO_TENANT_ID)!.updateUser(user('Ravi Patel'), { displayName: 'Ravi Patel' });
    await sync.cycle();
    await pause(1_000);
    expect(receiver.received.length).toBe(after);
    expect((await admin.request(paths.webhooks)).text).not.toContain(receiver.url);
  });

  it('rolled, deliveries are signed with the new secret only; a roll from a page shown before another roll, or by another org, changes nothing', async () => {
    const rolling = await startReceiver();
    try {
      const created = await admin.post(paths.webhooks, { url: rolling.url, types: 'user.updated' });
      const oldSecret = /id="new-secret"[^>]*value="(whsec_[\w-]{43})"/.exec(created.text)![1]!;
      const id = (await db().selectFrom('webhook_endpoints').select('id').where('url', '=', rolling.url).executeTakeFirstOrThrow()).id;
      const stored = async () => (await db().selectFrom('webhook_endpoints').select('secret').where('id', '=', id).executeTakeFirstOrThrow()).secret;
      // What each admin's page sends back with "Roll secret": the version of the secret it showed.
      const seenOnPage = async (browser: Browser) => new RegExp(`${paths.webhookAction(id, 'roll-secret')}"[^>]*>.*?name="seen" value="([0-9a-f]{16})"`).exec((await browser.request(paths.webhooks)).text)![1]!;
      const firstTab = await seenOnPage(admin);
      const secondTab = await seenOnPage(admin);

      // Another org's admin, even with the version this page showed: nothing there for them.
      await outsider.request(paths.webhooks);
      expect((await outsider.post(paths.webhookAction(id, 'roll-secret'), { seen: firstTab })).status).toBe(404);
      const before = await stored();

      // The switch the page advises: pause, roll, give the receiver the new secret, resume.
      expect((await admin.post(paths.webhookAction(id, 'pause'))).status).toBe(303);
      const rolled = await admin.post(paths.webhookAction(id, 'roll-secret'), { seen: firstTab });
      expect([rolled.status, rolled.headers.get('cache-control')]).toEqual([200, 'no-store']);
      expect(rolled.text).toContain('Signing secret rolled');
      const newSecret = /id="new-secret"[^>]*value="(whsec_[\w-]{43})"/.exec(rolled.text)![1]!;
      expect(newSecret).not.toBe(oldSecret);
      expect(await stored()).not.toBe(before);
      expect(await stored()).not.toContain(newSecret);

      // The other tab still shows the page from before the roll: its roll is refused, and the
      // secret its admin was just shown stays the one that signs.
      const stale = await admin.post(paths.webhookAction(id, 'roll-secret'), { seen: secondTab });
      expect(stale.status).toBe(409);
      expect(stale.text).toContain('changed after this page was shown');
      expect(stale.text).not.toContain('id="new-secret"');
      const afterRoll = await stored();
      expect((await admin.post(paths.webhookAction(id, 'roll-secret'), { seen: 'not a version' })).status).toBe(409);
      expect(await stored()).toBe(afterRoll);

      stack.emulator.directory.findTenant(DEMO_TENANT_ID)!.updateUser(user('Ravi Patel'), { displayName: 'Ravi Patel-Rolled' });
      await sync.cycle();
      await pause(1_000);
      expect(rolling.received).toEqual([]);
      expect((await admin.post(paths.webhookAction(id, 'resume'))).status).toBe(303);
      await waitFor(() => Promise.resolve(rolling.acknowledged().length > 0 ? true : undefined), 'a delivery after the roll', 30_000);
      expect(rolling.received.map((attempt) => attempt.answered)).toEqual([200]);
      const delivery = rolling.received.at(-1)!;
      expect(verifyWebhook(newSecret, delivery.body, delivery.signature)).toBe(true);
      expect(verifyWebhook(oldSecret, delivery.body, delivery.signature)).toBe(false);
      await deleteWebhookEndpoint(db(), acmeOrg, id);
    } finally {
      await rolling.close();
    }
  });

  it('an endpoint whose workflow is gone (never started, or terminated) is delivered to again when a worker starts', async () => {
    const late = await startReceiver();
    try {
      const { id } = await createWebhookEndpoint(db(), { orgId: acmeOrg, url: late.url, eventTypes: ['user.updated'], createdBy: null }, testWebhookSecrets);
      stack.emulator.directory.findTenant(DEMO_TENANT_ID)!.updateUser(user('Eva Kowalska'), { displayName: 'Eva Kowalska-Nowak' });
      await sync.cycle();
      expect(await ensureDeliveries(stack.temporal.client, stack.temporal.taskQueue, db())).toBeGreaterThanOrEqual(1);
      await waitFor(() => Promise.resolve(late.acknowledged().length > 0 ? true : undefined), 'the late delivery', 30_000);
      expect(JSON.parse(late.received.at(-1)!.body)).toMatchObject({ data: [{ type: 'user.updated', data: { user: { displayName: 'Eva Kowalska-Nowak' } } }] });
      await stack.temporal.client.workflow.getHandle(webhookWorkflowId(id)).terminate();
      await deleteWebhookEndpoint(db(), acmeOrg, id);
    } finally {
      await late.close();
    }
  });

  it("another org's admin neither sees nor changes an endpoint; a bad URL is refused and creates nothing", async () => {
    const other = await startReceiver();
    try {
      await admin.request(paths.webhooks);
      await admin.post(paths.webhooks, { url: other.url, types: 'user.removed' });
      const id = (await db().selectFrom('webhook_endpoints').select('id').where('deleted_at', 'is', null).executeTakeFirstOrThrow()).id;
      const theirs = await outsider.request(paths.webhooks);
      expect(theirs.text).not.toContain(other.url);
      for (const action of ['pause', 'resume', 'delete', 'roll-secret'] as const) expect((await outsider.post(paths.webhookAction(id, action))).status).toBe(404);
      expect((await db().selectFrom('webhook_endpoints').select(['paused', 'deleted_at']).where('id', '=', id).executeTakeFirstOrThrow())).toEqual({ paused: false, deleted_at: null });

      const count = async () => (await db().selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
      const rows = await count();
      for (const [url, message] of [
        ['ftp://files.example.com/hook', 'Webhook URLs must start with https://.'],
        ['https://user:secret@hooks.example.com/', 'Leave credentials out of the URL; deliveries are signed instead.'],
        ['not a url', 'Enter a full URL, such as https://hooks.example.com/hook.'],
      ] as const) {
        const answer = await admin.post(paths.webhooks, { url });
        expect([answer.status, answer.text.includes(message)]).toEqual([422, true]);
      }
      expect((await admin.post(paths.webhooks, { url: other.url, types: 'user.exploded' })).status).toBe(422);
      expect(await count()).toBe(rows);
    } finally {
      await other.close();
    }
  });
});

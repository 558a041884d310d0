import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { paths } from '../../web/paths.js';
import { Browser } from '../support/app.js';
import { startProductStack, type ProductStack } from '../support/stack.js';

const HOUR = 60 * 60 * 1000;

/** Banners on every Settings page when a connection needs its org's admins; nobody else sees them. */
describe('banners for connections that need an admin', () => {
  let stack: ProductStack;
  let admin: Browser;
  let outsider: Browser;
  let acmeConnection: string;
  const db = () => stack.database.db;
  const alertsOn = async (browser: Browser, path: string) => {
    const page = await browser.request(path);
    expect(page.status).toBe(200);
    return [...page.text.matchAll(/<div class="banner [\w-]+" data-alert="(\w+)">\s*<p>([^]*?)<\/p>/g)].map((m) => ({ kind: m[1], text: m[2]!.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim() }));
  };
  const everySettingsPage = async (browser: Browser) => {
    const [integrations, keys] = [await alertsOn(browser, paths.integrations), await alertsOn(browser, paths.apiKeys)];
    expect(keys).toEqual(integrations);
    return integrations;
  };
  const setConnection = (set: Record<string, unknown>) => db().updateTable('entra_connections').set(set).where('id', '=', acmeConnection).execute();

  beforeAll(async () => {
    stack = await startProductStack({ prefix: 'alerts' });
    const acme = (await findOrgBySlug(db(), stack.people.acme))!;
    const globex = (await findOrgBySlug(db(), stack.people.globex))!;
    acmeConnection = await upsertConnection(db(), { orgId: acme.id, tenantId: randomUUID(), tenantName: 'Acme Tenant', verifiedDomains: [] });
    await upsertConnection(db(), { orgId: globex.id, tenantId: randomUUID(), tenantName: 'Globex Tenant', verifiedDomains: [] });
    admin = new Browser(stack.app.url);
    await admin.signIn(stack.people.admin.email);
    outsider = new Browser(stack.app.url);
    await outsider.signIn(stack.people.outsider.email);
  });
  afterAll(() => stack?.stop());

  it('consent revoked, removals waiting, a group failing for a day: each a banner on every Settings page, gone once resolved', async () => {
    expect(await everySettingsPage(admin)).toEqual([]);

    await setConnection({ status: 'needs_reconnect', sync_status: 'needs_reconnect' });
    expect(await everySettingsPage(admin)).toEqual([{ kind: 'consent', text: expect.stringContaining("Acme Tenant: Microsoft refused Hook's access (consent revoked).") }]);

    await setConnection({ status: 'connected', sync_status: 'awaiting_confirmation', pending_removals: 7 });
    expect(await everySettingsPage(admin)).toEqual([{ kind: 'removals', text: 'Acme Tenant: 7 users wait for your confirmation before leaving Hook. Open Acme Tenant' }]);

    await setConnection({ sync_status: 'failing', pending_removals: 0 });
    const groupId = randomUUID();
    await db().insertInto('synced_groups').values({ connection_id: acmeConnection, group_id: groupId, display_name: 'Flaky', last_error: 'Graph unavailable: 503', last_synced_at: new Date(Date.now() - 23 * HOUR) }).execute();
    expect(await everySettingsPage(admin)).toEqual([]); // failing, but not for a day yet
    await db().updateTable('synced_groups').set({ last_synced_at: new Date(Date.now() - 25 * HOUR) }).where('group_id', '=', groupId).execute();
    expect(await everySettingsPage(admin)).toEqual([{ kind: 'failing', text: 'Acme Tenant: 1 synced group has failed to sync for more than a day; their members are kept meanwhile. Open Acme Tenant' }]);

    // Another org's admin sees none of it; an htmx region of the page carries no banner of its own.
    expect(await everySettingsPage(outsider)).toEqual([]);
    const region = await admin.request(paths.paneRegion(acmeConnection), { headers: { 'HX-Request': 'true' } });
    expect(region.text).not.toContain('data-alert');

    await db().updateTable('synced_groups').set({ last_error: null, last_synced_at: new Date() }).where('group_id', '=', groupId).execute();
    await setConnection({ sync_status: 'idle' });
    expect(await everySettingsPage(admin)).toEqual([]);
  });
});

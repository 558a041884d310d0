import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listConnections, upsertConnection } from '../../db/repositories/connections.js';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { DEMO_ADMIN_UPN, DEMO_TENANT_ID, demoTenant } from '../../emulator/demo.js';
import { MicrosoftSide, relative } from '../support/microsoft.js';
import { onboardingStatusQuery } from '../../workflows/onboarding/messages.js';
import { Browser, PASSWORD } from '../support/app.js';
import { startProductStack, type ProductStack } from '../support/stack.js';

describe('Integrations over HTTP: sign-in, access, Connect and the consent callback', () => {
  let stack: ProductStack;
  let database: ProductStack['database'];
  let temporal: ProductStack['temporal'];
  let emulator: ProductStack['emulator'];
  let app: ProductStack['app'];
  let people: ProductStack['people'];

  beforeAll(async () => {
    stack = await startProductStack({ prefix: 'web', tenants: [demoTenant()] });
    ({ database, temporal, emulator, app, people } = stack);
  });
  afterAll(() => stack.stop());

  const signedIn = async (email: string) => {
    const browser = new Browser(app.url);
    const response = await browser.signIn(email);
    expect(response.status).toBe(303);
    await browser.request('/org/settings/integrations');
    return browser;
  };

  /** Connect, Microsoft's sign-in as the demo tenant's admin, then the consent decision: returns the consent callback. */
  async function consent(browser: Browser, decision: 'accept' | 'cancel') {
    const microsoft = new MicrosoftSide();
    const connect = await browser.post('/org/settings/integrations/microsoft-entra/connect');
    expect(connect.status).toBe(303);
    const authorize = new URL(connect.location!);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${emulator.httpUrl}/organizations/oauth2/v2.0/authorize`);
    expect(authorize.searchParams.get('scope')).toBe('openid profile');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    const proven = await browser.request(relative(await microsoft.signIn(connect.location!, DEMO_ADMIN_UPN)));
    expect(proven.status).toBe(303);
    const consentUrl = new URL(proven.location!);
    expect(`${consentUrl.origin}${consentUrl.pathname}`).toBe(`${emulator.httpUrl}/${DEMO_TENANT_ID}/v2.0/adminconsent`);
    const callback = await microsoft.consent(proven.location!, DEMO_TENANT_ID, decision);
    expect(callback.pathname).toBe('/org/settings/integrations/microsoft-entra/callback');
    return { callback: relative(callback), state: consentUrl.searchParams.get('state')! };
  }

  it('signs in with a rotated, HttpOnly, SameSite=Lax session; a wrong password is refused', async () => {
    const browser = new Browser(app.url);
    expect((await browser.signIn(people.admin.email, 'wrong password')).status).toBe(401);
    const first = await browser.signIn(people.admin.email);
    expect(first.status).toBe(303);
    expect(first.headers.getSetCookie().find((cookie) => cookie.startsWith('hook_session='))).toMatch(/HttpOnly; SameSite=Lax/);
    const before = browser.cookie('hook_session');
    await browser.request('/org/settings/integrations'); // a signed-in page's CSRF token
    expect((await browser.post('/sign-in', { email: people.admin.email, password: PASSWORD })).status).toBe(303);
    expect(browser.cookie('hook_session')).not.toBe(before);
    // The old session no longer works.
    const stale = new Browser(app.url);
    (stale as unknown as { cookies: Map<string, string> }).cookies.set('hook_session', before!);
    expect((await stale.request('/org/settings/integrations')).status).toBe(303);
  });

  it('throttles failed sign-ins per account', async () => {
    const browser = new Browser(app.url);
    for (let attempt = 0; attempt < 5; attempt++) expect((await browser.signIn(people.outsider.email, 'nope')).status).toBe(401);
    const blocked = await browser.signIn(people.outsider.email);
    expect(blocked.status).toBe(429);
    expect(blocked.text).toContain('Too many failed sign-ins.');
  });

  it('throttles failed sign-ins per address, whatever the account', async () => {
    const browser = new Browser(app.url);
    for (let attempt = 0; attempt < 20; attempt++) await browser.signIn(`nobody${attempt}@web.test`, 'nope');
    expect((await browser.signIn(people.member.email)).status).toBe(429);
    await database.db.deleteFrom('sign_in_failures').execute();
  });

  it('refuses state-changing requests without the right CSRF token, and starts nothing', async () => {
    const browser = await signedIn(people.admin.email);
    const missing = await browser.request('/org/settings/integrations/microsoft-entra/connect', { method: 'POST', form: {} });
    expect(missing.status).toBe(403);
    const wrong = await browser.request('/org/settings/integrations/microsoft-entra/connect', { method: 'POST', form: { _csrf: 'forged' } });
    expect(wrong.status).toBe(403);
    const htmxWithout = await browser.request('/org/settings/integrations/microsoft-entra/connect', { method: 'POST', headers: { 'HX-Request': 'true' } });
    expect(htmxWithout.status).toBe(403);
    expect((await browser.request('/sign-out', { method: 'POST', form: {} })).status).toBe(403);
    expect(await database.db.selectFrom('consent_requests').selectAll().execute()).toEqual([]);
  });

  it('Settings is for org admins: a member gets 403, an org the account is not in 404, another org’s connection 404', async () => {
    const member = await signedIn(people.member.email);
    expect((await member.request('/org/settings/integrations')).status).toBe(403);
    expect((await member.post('/org/settings/integrations/microsoft-entra/connect')).status).toBe(403);
    const outsider = await signedIn(people.outsider.email);
    expect((await outsider.request(`/org/settings/integrations?org=${people.acme}`)).status).toBe(404);
    const acme = await findOrgBySlug(database.db, people.acme);
    const acmeConnection = await upsertConnection(database.db, { orgId: acme!.id, tenantId: '11111111-2222-4333-8444-555555555555', tenantName: 'Acme Tenant', verifiedDomains: [] });
    expect((await outsider.request(`/org/settings/integrations/connections/${acmeConnection}/pane`)).status).toBe(404);
    const admin = await signedIn(people.admin.email);
    const pane = await admin.request(`/org/settings/integrations/connections/${acmeConnection}/pane?org=${people.acme}`, { headers: { 'HX-Request': 'true' } });
    expect(pane.status).toBe(200);
    expect(pane.text).toContain('Manage groups');
    await database.db.deleteFrom('entra_connections').execute();
  });

  it('Connect → approve → callback → verification → Connected, in the org that started it', async () => {
    const browser = await signedIn(people.admin.email);
    const { callback } = await consent(browser, 'accept');
    const landed = await browser.request(callback);
    expect(landed.status).toBe(303);
    expect(landed.location).toMatch(/^\/org\/settings\/integrations\?onboarding=onboarding-/);
    const workflowId = new URL(landed.location!, app.url).searchParams.get('onboarding')!;
    const page = await browser.request(landed.location!);
    expect(page.text).toContain('Verifying your tenant with Microsoft Entra…');
    await temporal.client.workflow.getHandle(workflowId).result();
    const done = await browser.request(`/org/settings/integrations/onboarding/${workflowId}/status`, { headers: { 'HX-Request': 'true' } });
    expect(done.status).toBe(204);
    expect(done.headers.get('hx-redirect')).toMatch(/^\/org\/settings\/integrations\?expand=/);
    const integrations = await browser.request(done.headers.get('hx-redirect')!);
    expect(integrations.text).toContain('Connected to Northwind Outfitters');
    expect(integrations.text).toContain('<span class="badge ok">Connected</span>');
    expect(integrations.text).toContain('Manage groups');
    const acme = await findOrgBySlug(database.db, people.acme);
    expect((await listConnections(database.db, acme!.id)).map((row) => row.tenant_name)).toEqual(['Northwind Outfitters']);
  });

  it('Cancel on Microsoft’s page shows a toast with Microsoft’s description and the hint, and connects nothing', async () => {
    await database.db.deleteFrom('entra_connections').execute();
    const browser = await signedIn(people.admin.email);
    const { callback } = await consent(browser, 'cancel');
    const landed = await browser.request(callback);
    expect(landed.location).toBe('/org/settings/integrations');
    const page = await browser.request('/org/settings/integrations');
    expect(page.text).toContain('Microsoft Entra was not connected');
    expect(page.text).toContain('AADSTS65004: The resource owner or authorization server denied the request.');
    expect(page.text).toContain("account that can&#39;t grant tenant-wide consent");
    expect(page.text).toContain('Sync groups and members from Microsoft Entra (Azure AD) into Hook.');
    expect(await database.db.selectFrom('entra_connections').selectAll().execute()).toEqual([]);
  });

  it('refuses forged, replayed, expired and other-session state, changing nothing', async () => {
    const browser = await signedIn(people.admin.email);
    const { callback, state } = await consent(browser, 'accept');
    const request = await database.db.selectFrom('consent_requests').selectAll().where('used_at', 'is', null).executeTakeFirstOrThrow();
    const handle = temporal.client.workflow.getHandle(request.workflow_id);

    const forged = callback.replace(state, 'x'.repeat(43));
    expect((await browser.request(forged)).status).toBe(400);
    const other = await signedIn(people.admin.email);
    expect((await other.request(callback)).status).toBe(400);
    expect((await handle.query(onboardingStatusQuery)).stage).toBe('awaiting_consent');

    await database.db.updateTable('consent_requests').set({ expires_at: new Date(Date.now() - 1000) }).where('state_hash', '=', request.state_hash).execute();
    expect((await browser.request(callback)).status).toBe(400);
    expect((await handle.query(onboardingStatusQuery)).stage).toBe('awaiting_consent');
    await database.db.updateTable('consent_requests').set({ expires_at: new Date(Date.now() + 60_000) }).where('state_hash', '=', request.state_hash).execute();

    expect((await browser.request(callback)).status).toBe(303);
    const replay = await browser.request(callback);
    expect(replay.status).toBe(400);
    expect(replay.text).toContain('This link has expired');
  });
});

import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { createSignInRequest } from '../../db/repositories/consent-requests.js';
import { demoTenant } from '../../emulator/demo.js';
import { groupSelectionWorkflowId } from '../../workflows/group-selection/messages.js';
import { hashToken } from '../../web/session.js';
import { sweepExpired } from '../../web/sweep.js';
import { Browser, startTestApp } from '../support/app.js';
import { startProductStack, type ProductStack } from '../support/stack.js';

const INTEGRATIONS = '/org/settings/integrations';

/** The smaller holes the red team found beside tenant ownership, each tried as they tried it. */
describe('red-team findings: throttling, forwarded headers, cookies, org switching, stale runs, GETs, sweeps, headers', () => {
  let stack: ProductStack;
  let proxied: Awaited<ReturnType<typeof startTestApp>>;
  let https: Awaited<ReturnType<typeof startTestApp>>;
  const db = () => stack.database.db;

  beforeAll(async () => {
    stack = await startProductStack({ prefix: 'red', tenants: [demoTenant()] });
    // The same app behind a proxy on loopback (TRUST_PROXY), and one served over https.
    [proxied, https] = await Promise.all([
      startTestApp({ db: db(), temporal: stack.temporal.client, taskQueue: stack.temporal.taskQueue, emulator: stack.emulator, env: { TRUST_PROXY: 'loopback' } }),
      startTestApp({ db: db(), temporal: stack.temporal.client, taskQueue: stack.temporal.taskQueue, emulator: stack.emulator, env: { PUBLIC_URL: 'https://hook.example' } }),
    ]);
  });
  afterAll(async () => {
    await proxied?.close();
    await https?.close();
    await stack?.stop();
  });

  const clearFailures = () => db().deleteFrom('sign_in_failures').execute();

  it('40 parallel wrong passwords: at most 5 are checked, and the right one after them is still refused', async () => {
    await clearFailures();
    const browsers = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const browser = new Browser(stack.app.url);
        await browser.request('/sign-in');
        return browser;
      }),
    );
    const answers = await Promise.all(browsers.map((browser) => browser.request('/sign-in', { form: { _csrf: browser.csrf, email: stack.people.member.email, password: 'wrong guess' } })));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(35);
    expect((await new Browser(stack.app.url).signIn(stack.people.member.email)).status).toBe(429);
    await clearFailures();
  });

  it('X-Forwarded-For is not believed unless TRUST_PROXY names the proxy: rotating it does not dodge the limit', async () => {
    await clearFailures();
    const browser = new Browser(stack.app.url);
    for (let attempt = 0; attempt < 5; attempt++) {
      await browser.request('/sign-in');
      const answer = await browser.request('/sign-in', { form: { _csrf: browser.csrf, email: stack.people.member.email, password: 'nope' }, headers: { 'X-Forwarded-For': `203.0.113.${attempt + 1}` } });
      expect(answer.status).toBe(401);
    }
    await browser.request('/sign-in');
    const sixth = await browser.request('/sign-in', { form: { _csrf: browser.csrf, email: stack.people.member.email, password: 'nope' }, headers: { 'X-Forwarded-For': '198.51.100.77' } });
    expect(sixth.status).toBe(429);
    await clearFailures();
  });

  it('behind a trusted proxy, someone failing on purpose elsewhere cannot lock the account out', async () => {
    await clearFailures();
    const attacker = new Browser(proxied.url);
    for (let attempt = 0; attempt < 12; attempt++) {
      await attacker.request('/sign-in');
      await attacker.request('/sign-in', { form: { _csrf: attacker.csrf, email: stack.people.member.email, password: 'nope' }, headers: { 'X-Forwarded-For': '203.0.113.50' } });
    }
    const blocked = new Browser(proxied.url);
    await blocked.request('/sign-in');
    expect((await blocked.request('/sign-in', { form: { _csrf: blocked.csrf, email: stack.people.member.email, password: 'correct horse battery staple' }, headers: { 'X-Forwarded-For': '203.0.113.50' } })).status).toBe(429);
    const victim = new Browser(proxied.url);
    await victim.request('/sign-in', { headers: { 'X-Forwarded-For': '198.51.100.7' } });
    const answer = await victim.request('/sign-in', { form: { _csrf: victim.csrf, email: stack.people.member.email, password: 'correct horse battery staple' }, headers: { 'X-Forwarded-For': '198.51.100.7' } });
    expect(answer.status).toBe(303);
    await clearFailures();
  });

  it('a malformed cookie is ignored, never a 500', async () => {
    for (const path of ['/sign-in', '/', INTEGRATIONS, '/healthz']) {
      const response = await fetch(`${stack.app.url}${path}`, { headers: { Cookie: 'x=%; hook_session=%E0%A4%A' }, redirect: 'manual' });
      expect(response.status, path).toBeLessThan(500);
    }
    const admin = new Browser(stack.app.url);
    await admin.signIn(stack.people.admin.email);
    const page = await fetch(`${stack.app.url}${INTEGRATIONS}`, { headers: { Cookie: `x=%; hook_session=${admin.cookie('hook_session')}` }, redirect: 'manual' });
    expect(page.status).toBe(200);
  });

  it('a GET with ?org= changes nothing: Connect still lands in the org the session works in; switching is a POST with CSRF', async () => {
    const admin = new Browser(stack.app.url);
    await admin.signIn(stack.people.admin.email); // admin of Acme (current) and Globex
    const acme = (await findOrgBySlug(db(), stack.people.acme))!;
    const globex = (await findOrgBySlug(db(), stack.people.globex))!;
    const offer = await admin.request(`${INTEGRATIONS}?org=${stack.people.globex}`);
    expect(offer.status).toBe(200);
    expect(offer.text).toContain('Switch to Globex Corp?');
    const session = () => db().selectFrom('sessions').select('current_org_id').where('id_hash', '=', hashToken(admin.cookie('hook_session')!)).executeTakeFirstOrThrow();
    expect((await session()).current_org_id).toBe(acme.id);
    await admin.request(INTEGRATIONS);
    await admin.post(`${INTEGRATIONS}/microsoft-entra/connect`);
    const request = await db().selectFrom('consent_requests').select('org_id').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(request.org_id).toBe(acme.id);
    expect((await admin.request('/org/switch', { form: { org: stack.people.globex } })).status).toBe(403); // no CSRF token
    expect((await session()).current_org_id).toBe(acme.id);
    expect((await admin.post('/org/switch', { org: stack.people.globex })).status).toBe(303);
    expect((await session()).current_org_id).toBe(globex.id);
    expect((await admin.post('/org/switch', { org: 'not-my-org' })).status).toBe(404);
  });

  it('a callback for an onboarding run that has ended or never existed answers the toast with the cause, not a 500', async () => {
    const admin = new Browser(stack.app.url);
    await admin.signIn(stack.people.admin.email);
    const acme = (await findOrgBySlug(db(), stack.people.acme))!;
    const state = randomBytes(32).toString('base64url');
    await createSignInRequest(db(), {
      stateHash: hashToken(state),
      sessionHash: hashToken(admin.cookie('hook_session')!),
      orgId: acme.id,
      workflowId: `onboarding-${acme.id}-gone`,
      ttlMs: 60_000,
      redirectUri: 'http://localhost:3000/cb',
      nonce: 'n',
      codeVerifier: 'v'.repeat(43),
    });
    const answer = await admin.request(`${INTEGRATIONS}/microsoft-entra/callback?code=1.abc&state=${state}`);
    expect(answer.status).toBe(303);
    expect(answer.location).toBe(INTEGRATIONS);
    const page = await admin.request(INTEGRATIONS);
    expect(page.text).toContain('Microsoft Entra was not connected');
    expect(page.text).toContain('This Connect had already ended');
  });

  it('GETs only read: the picker, its search and the preview start no selection run', async () => {
    const admin = new Browser(stack.app.url);
    await admin.signIn(stack.people.admin.email);
    const acme = (await findOrgBySlug(db(), stack.people.acme))!;
    const connection = await upsertConnection(db(), { orgId: acme.id, tenantId: demoTenant().id, tenantName: 'Northwind Outfitters', verifiedDomains: [] });
    for (const path of [`/groups?connection=${connection}`, `/groups/search?connection=${connection}&q=Sales`, `/preview?connection=${connection}`]) {
      const answer = await admin.request(`${INTEGRATIONS}/microsoft-entra${path}`);
      expect(answer.status, path).not.toBe(200);
    }
    await expect(stack.temporal.client.workflow.getHandle(groupSelectionWorkflowId(connection)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    // Manage groups (a POST with CSRF) is what starts it.
    await admin.request(`${INTEGRATIONS}?expand=${connection}`);
    expect((await admin.post(`${INTEGRATIONS}/microsoft-entra/groups`, { connection })).status).toBe(303);
    expect((await stack.temporal.client.workflow.getHandle(groupSelectionWorkflowId(connection)).describe()).status.name).toBe('RUNNING');
    await stack.temporal.client.workflow.getHandle(groupSelectionWorkflowId(connection)).terminate();
  });

  it('expired sessions, old sign-in failures and old consent requests are deleted; an expired cookie is deleted on sight', async () => {
    const browser = new Browser(stack.app.url);
    await browser.signIn(stack.people.admin.email);
    const idHash = hashToken(browser.cookie('hook_session')!);
    await db().updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000) }).where('id_hash', '=', idHash).execute();
    expect((await browser.request(INTEGRATIONS)).status).toBe(303); // to sign-in
    expect(await db().selectFrom('sessions').select('id_hash').where('id_hash', '=', idHash).execute()).toEqual([]);

    const other = new Browser(stack.app.url);
    await other.signIn(stack.people.member.email);
    await db().updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000) }).where('id_hash', '=', hashToken(other.cookie('hook_session')!)).execute();
    await db().insertInto('sign_in_failures').values({ email: 'old@red.test', address: '192.0.2.1', at: new Date(Date.now() - 16 * 60_000) }).execute();
    await db().updateTable('consent_requests').set({ expires_at: new Date(Date.now() - 2 * 86_400_000) }).execute();
    const deleted = await sweepExpired(db());
    expect(deleted.sessions).toBeGreaterThanOrEqual(1);
    expect(deleted.signInFailures).toBeGreaterThanOrEqual(1);
    expect(deleted.consentRequests).toBeGreaterThanOrEqual(1);
    expect(await db().selectFrom('sessions').selectAll().where('expires_at', '<=', new Date()).execute()).toEqual([]);
    expect(await db().selectFrom('consent_requests').selectAll().execute()).toEqual([]);
  });

  it('HSTS when PUBLIC_URL is https (never on http), Cross-Origin-Resource-Policy always, the CSP kept', async () => {
    const secure = await fetch(`${https.url}/sign-in`);
    expect(secure.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    const plain = await fetch(`${stack.app.url}/sign-in`);
    expect(plain.headers.get('strict-transport-security')).toBeNull();
    for (const response of [secure, plain]) {
      expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
  });
});

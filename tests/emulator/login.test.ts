import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_APP_ID, DEMO_APP_SECRET, DEMO_TENANT_ID, demoTenant } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { REDIRECT_URI, call, startTestEmulator } from '../support/emulator.js';

const STRICT_TENANT = { ...demoTenant(), id: stableId('strict tenant'), displayName: 'Strict Corp', verifiedDomains: [{ name: 'strict.example', isDefault: true }], settings: { canGrantTenantWideConsent: false } };
const OTHER_TENANT = { ...demoTenant(), id: stableId('other tenant'), displayName: 'Other Ltd', verifiedDomains: [{ name: 'other.example', isDefault: true }] };

describe('emulated sign-in: admin consent and the token endpoint', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    // The demo tenant has not consented yet: consent is what these tests do.
    emulator = await startTestEmulator({ tenants: [demoTenant(), STRICT_TENANT, OTHER_TENANT] });
  });
  afterAll(() => emulator.close());

  const consentQuery = (overrides: Record<string, string> = {}) =>
    new URLSearchParams({ client_id: DEMO_APP_ID, scope: 'https://graph.microsoft.com/.default', redirect_uri: REDIRECT_URI, state: 'st-123', ...overrides }).toString();
  const browser = (path: string, init: RequestInit = {}) => fetch(`${emulator.httpUrl}${path}`, { redirect: 'manual', ...init });
  const decide = (tenant: string, decision: string, tenantChoice: string) =>
    browser(`/${tenant}/v2.0/adminconsent`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: DEMO_APP_ID, redirect_uri: REDIRECT_URI, scope: 'https://graph.microsoft.com/.default', state: 'st-123', tenant_choice: tenantChoice, decision }).toString(),
    });
  const token = (tenant: string, form: Record<string, string> = {}) =>
    call(emulator, `/${tenant}/oauth2/v2.0/token`, {
      method: 'POST',
      form: { client_id: DEMO_APP_ID, client_secret: DEMO_APP_SECRET, scope: 'https://graph.microsoft.com/.default', grant_type: 'client_credentials', ...form },
    });

  it('shows a consent prompt, marked as the emulator, listing the application permissions', async () => {
    const response = await browser(`/${DEMO_TENANT_ID}/v2.0/adminconsent?${consentQuery()}`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('Entra emulator — this is not Microsoft.');
    expect(html).toContain('Permissions requested');
    for (const permission of ['Read organization information', 'Read all group memberships', "Read all users&#39; full profiles", 'Read all hidden memberships']) {
      expect(html).toContain(permission);
    }
    expect(html).toContain('value="accept"');
    expect(html).toContain('value="cancel"');
  });

  it('before consent the token endpoint answers unauthorized_client AADSTS700016', async () => {
    const response = await token(DEMO_TENANT_ID);
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });
  });

  it('Accept redirects with admin_consent=True, the tenant id, state and scope, and installs the app', async () => {
    const response = await decide('northwind.example', 'accept', DEMO_TENANT_ID);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(Object.fromEntries(location.searchParams)).toEqual({
      admin_consent: 'True',
      tenant: DEMO_TENANT_ID,
      state: 'st-123',
      scope: expect.stringContaining('https://graph.microsoft.com/GroupMember.Read.All'),
    });
    const granted = await token(DEMO_TENANT_ID);
    expect(granted.status).toBe(200);
    expect(granted.json).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
  });

  it('Cancel redirects with access_denied, AADSTS65004, error_uri and state, and no tenant', async () => {
    const response = await decide(OTHER_TENANT.id, 'cancel', OTHER_TENANT.id);
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('error_description')).toMatch(/^AADSTS65004: /);
    expect(location.searchParams.get('error_uri')).toBe('https://login.microsoftonline.com/error?code=65004');
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.has('tenant')).toBe(false);
    expect((await token(OTHER_TENANT.id)).json.error_codes).toEqual([700016]);
  });

  it('an account that cannot grant tenant-wide consent sees "Need admin approval" and returns with AADSTS90094', async () => {
    const page = await (await browser(`/${STRICT_TENANT.id}/v2.0/adminconsent?${consentQuery()}`)).text();
    expect(page).toContain('Need admin approval');
    expect(page).not.toContain('value="accept"');
    const response = await decide(STRICT_TENANT.id, 'not_admin', STRICT_TENANT.id);
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('error_description')).toMatch(/^AADSTS90094: /);
    expect(location.searchParams.has('tenant')).toBe(false);
  });

  it('an unregistered redirect_uri shows an error page and never redirects (AADSTS50011)', async () => {
    for (const response of [
      await browser(`/${DEMO_TENANT_ID}/v2.0/adminconsent?${consentQuery({ redirect_uri: 'https://evil.example/cb' })}`),
      await browser(`/${DEMO_TENANT_ID}/v2.0/adminconsent`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: DEMO_APP_ID, redirect_uri: 'https://evil.example/cb', decision: 'accept', tenant_choice: DEMO_TENANT_ID }).toString(),
      }),
    ]) {
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(await response.text()).toContain('AADSTS50011');
    }
  });

  it('/organizations lets the admin pick the tenant; the redirect names the tenant that consented', async () => {
    const page = await (await browser(`/organizations/v2.0/adminconsent?${consentQuery()}`)).text();
    expect(page).toContain('Other Ltd');
    expect(page).toContain('Northwind Outfitters');
    const response = await decide('organizations', 'accept', OTHER_TENANT.id);
    expect(new URL(response.headers.get('location')!).searchParams.get('tenant')).toBe(OTHER_TENANT.id);
  });

  it('the token endpoint answers Microsoft’s errors: wrong secret, missing secret, unknown tenant, bad grant', async () => {
    const wrong = await token(DEMO_TENANT_ID, { client_secret: 'definitely-wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    expect(wrong.json.error_description).toMatch(/^AADSTS7000215: .*\r\nTrace ID: .*\r\nCorrelation ID: .*\r\nTimestamp: /s);
    const missing = await token(DEMO_TENANT_ID, { client_secret: '' });
    expect(missing).toMatchObject({ status: 401, json: { error: 'invalid_client', error_codes: [7000218] } });
    const unknown = await token(stableId('nobody'));
    expect(unknown).toMatchObject({ status: 400, json: { error: 'invalid_request', error_codes: [90002] } });
    const grant = await token(DEMO_TENANT_ID, { grant_type: 'password' });
    expect(grant).toMatchObject({ status: 400, json: { error: 'unsupported_grant_type' } });
  });

  it('ignores the extra form keys MSAL sends, raw spaces included', async () => {
    const response = await fetch(`${emulator.httpsUrl}/${DEMO_TENANT_ID}/oauth2/v2.0/token?client-request-id=abc`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body: `client_id=${DEMO_APP_ID}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&grant_type=client_credentials&x-client-SKU=msal.js.node&x-client-VER=7.0.0&x-ms-lib-capability=retry-after, h429&x-client-current-telemetry=5|771,2,,,|,&client_secret=${DEMO_APP_SECRET}`,
    });
    expect(response.status).toBe(200);
  });

  it('a token of a tenant whose consent was revoked stops working; Graph says 401, the token endpoint 700016', async () => {
    const granted = (await token(DEMO_TENANT_ID)).json.access_token as string;
    expect((await call(emulator, '/v1.0/organization', { token: granted })).status).toBe(200);
    await call(emulator, `/_emulator/tenants/${DEMO_TENANT_ID}/consent`, { method: 'POST', body: { action: 'revoke', appId: DEMO_APP_ID } });
    const refused = await call(emulator, '/v1.0/organization', { token: granted });
    expect(refused.status).toBe(401);
    expect(refused.json.error.code).toBe('InvalidAuthenticationToken');
    expect((await token(DEMO_TENANT_ID)).json.error_codes).toEqual([700016]);
  });
});

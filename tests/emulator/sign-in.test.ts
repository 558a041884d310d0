import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdTokenValidator } from '../../activities/graph/id-token.js';
import { DEMO_ADMIN_UPN, DEMO_APP_ID, DEMO_APP_SECRET, DEMO_NON_ADMIN_UPN, DEMO_TENANT_ID, demoTenant, hookApplication } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { REDIRECT_URI, call, startTestEmulator } from '../support/emulator.js';
import { MicrosoftSide } from '../support/microsoft.js';

const LOCKED = { ...demoTenant(), id: stableId('locked tenant'), displayName: 'Locked Corp', verifiedDomains: [{ name: 'locked.example', isDefault: true }], settings: { usersCanConsent: false } };
const NO_ROLES_APP = { ...hookApplication([REDIRECT_URI], stableId('app', 'no-roles-claim'), 'no-roles-secret'), groupMembershipClaims: null };

const VERIFIER = 'a-pkce-code-verifier-of-forty-three-characters-or-more';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

/** The OpenID Connect sign-in as Microsoft plays it (authorization code with PKCE and a nonce). */
describe('emulated sign-in: authorize, the code grant, id_tokens and their keys', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator({ tenants: [demoTenant(), LOCKED], applications: [hookApplication([REDIRECT_URI]), NO_ROLES_APP] });
  });
  afterAll(() => emulator.close());

  const authorizeUrl = (tenant = 'organizations', overrides: Record<string, string> = {}) =>
    `${emulator.httpUrl}/${tenant}/oauth2/v2.0/authorize?${new URLSearchParams({
      client_id: DEMO_APP_ID,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile',
      state: 'st-1',
      nonce: 'n-1',
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      ...overrides,
    }).toString()}`;
  const redeem = (code: string, form: Record<string, string> = {}, tenant = 'organizations') =>
    call(emulator, `/${tenant}/oauth2/v2.0/token`, {
      method: 'POST',
      form: { client_id: DEMO_APP_ID, client_secret: DEMO_APP_SECRET, grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: VERIFIER, scope: 'openid profile', ...form },
    });
  const claimsOf = (idToken: string) => JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

  it('a sign-in page lists the tenant’s admins first; a code comes back with the state', async () => {
    const page = await fetch(authorizeUrl(DEMO_TENANT_ID));
    const html = await page.text();
    expect(html).toContain('Pick an account');
    expect(html.indexOf(DEMO_ADMIN_UPN)).toBeLessThan(html.indexOf(DEMO_NON_ADMIN_UPN));
    const back = await new MicrosoftSide().signIn(authorizeUrl(DEMO_TENANT_ID), DEMO_ADMIN_UPN);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    expect(back.searchParams.get('state')).toBe('st-1');
    expect(back.searchParams.get('code')).toMatch(/^1\./);
  });

  it('the code redeems once for an RS256 id_token that the tenant’s jwks_uri verifies, with Microsoft’s claims', async () => {
    const code = (await new MicrosoftSide().signIn(authorizeUrl(), DEMO_ADMIN_UPN)).searchParams.get('code')!;
    const answer = await redeem(code, { client_info: '1' });
    expect(answer.status).toBe(200);
    const idToken = answer.json.id_token as string;
    const claims = claimsOf(idToken);
    expect(claims).toMatchObject({ aud: DEMO_APP_ID, iss: `${emulator.httpsUrl}/${DEMO_TENANT_ID}/v2.0`, tid: DEMO_TENANT_ID, nonce: 'n-1', preferred_username: DEMO_ADMIN_UPN, ver: '2.0' });
    expect(claims.wids).toEqual(['62e90394-69f5-4237-9190-012177145e10', 'b79fbf4d-3ef9-4689-8143-76b194e85509']);
    expect(JSON.parse(Buffer.from(answer.json.client_info as string, 'base64url').toString('utf8'))).toEqual({ uid: claims.oid, utid: DEMO_TENANT_ID });
    const discovery = await call(emulator, `/${DEMO_TENANT_ID}/v2.0/.well-known/openid-configuration`);
    expect(discovery.json.jwks_uri).toBe(`${emulator.httpsUrl}/${DEMO_TENANT_ID}/discovery/v2.0/keys`);
    const validate = createIdTokenValidator({ loginOrigin: emulator.httpsUrl, clientId: DEMO_APP_ID });
    await expect(validate(idToken, 'n-1')).resolves.toMatchObject({ tid: DEMO_TENANT_ID });
    await expect(validate(idToken, 'another nonce')).rejects.toThrow('nonce');
    const [header, , signature] = idToken.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, tid: stableId('victim') })).toString('base64url')}.${signature}`;
    await expect(validate(tampered, 'n-1')).rejects.toThrow();
    await expect(createIdTokenValidator({ loginOrigin: emulator.httpsUrl, clientId: stableId('other app') })(idToken, 'n-1')).rejects.toThrow('another application');

    const again = await redeem(code);
    expect(again.status).toBe(400);
    expect(again.json).toMatchObject({ error: 'invalid_grant', error_codes: [54005] });
  });

  it('refuses a wrong PKCE verifier, another redirect URI and a tenant the code was not issued in', async () => {
    const fresh = async () => (await new MicrosoftSide().signIn(authorizeUrl(), DEMO_ADMIN_UPN)).searchParams.get('code')!;
    expect((await redeem(await fresh(), { code_verifier: 'x'.repeat(43) })).json).toMatchObject({ error: 'invalid_grant', error_codes: [50148] });
    expect((await redeem(await fresh(), { redirect_uri: 'http://localhost:3000/elsewhere' })).json).toMatchObject({ error: 'invalid_grant', error_codes: [500112] });
    expect((await redeem(await fresh(), {}, LOCKED.id)).json).toMatchObject({ error: 'invalid_grant', error_codes: [50020] });
    expect((await redeem('1.not-a-code')).json).toMatchObject({ error: 'invalid_grant', error_codes: [9002313] });
    expect((await redeem(await fresh(), { client_secret: 'wrong-secret-value' })).json).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
  });

  it('codes expire after ten minutes (AADSTS70008)', () => {
    const tenant = emulator.directory.findTenant(DEMO_TENANT_ID)!;
    const account = emulator.signIn.findAccount(tenant, DEMO_ADMIN_UPN)!;
    const code = emulator.signIn.issueCode({ clientId: DEMO_APP_ID, redirectUri: REDIRECT_URI, scope: 'openid', account }, Date.now() - 11 * 60_000);
    expect(emulator.signIn.redeem(code, { clientId: DEMO_APP_ID, redirectUri: REDIRECT_URI, tenantSegment: 'organizations' })).toMatchObject({ ok: false, code: 70008 });
  });

  it('wids only when the app registration asks for directory roles; a guest has no member role', async () => {
    const side = new MicrosoftSide();
    const back = await side.signIn(authorizeUrl('organizations', { client_id: NO_ROLES_APP.appId }), DEMO_ADMIN_UPN);
    const answer = await redeem(back.searchParams.get('code')!, { client_id: NO_ROLES_APP.appId, client_secret: 'no-roles-secret' });
    expect(claimsOf(answer.json.id_token as string).wids).toBeUndefined();
    const nonAdmin = await redeem((await side.signIn(authorizeUrl(), DEMO_NON_ADMIN_UPN)).searchParams.get('code')!);
    expect(claimsOf(nonAdmin.json.id_token as string).wids).toEqual(['b79fbf4d-3ef9-4689-8143-76b194e85509']);
  });

  it('Microsoft’s error redirects: Cancel, a user of another tenant, consent required, prompt=none without a session', async () => {
    const cancelled = await new MicrosoftSide().signIn(authorizeUrl(), DEMO_ADMIN_UPN, 'cancel');
    expect(cancelled.searchParams.get('error')).toBe('access_denied');
    expect(cancelled.searchParams.get('error_description')).toMatch(/^AADSTS65004:/);
    const foreign = await new MicrosoftSide().signIn(authorizeUrl(LOCKED.id), DEMO_ADMIN_UPN);
    expect(foreign.searchParams.get('error')).toBe('access_denied');
    expect(foreign.searchParams.get('error_description')).toMatch(/^AADSTS50020:/);
    // Locked Corp lets no user consent and has not installed Hook: a non-admin cannot sign in to it.
    const lockedUser = `ben.carter@locked.example`;
    emulator.directory.findTenant(LOCKED.id)!.users.get(stableId('northwind', 'user', 'Ben Carter'))!.userPrincipalName = lockedUser;
    const required = await new MicrosoftSide().signIn(authorizeUrl(LOCKED.id), lockedUser);
    expect(required.searchParams.get('error')).toBe('consent_required');
    expect(required.searchParams.get('error_description')).toMatch(/^AADSTS65001:/);
    const silent = await fetch(authorizeUrl('organizations', { prompt: 'none' }), { redirect: 'manual' });
    expect(new URL(silent.headers.get('location')!).searchParams.get('error')).toBe('login_required');
  });

  it('an unregistered redirect URI or unknown app gets Microsoft’s error page, never a redirect', async () => {
    const wrongRedirect = await fetch(authorizeUrl('organizations', { redirect_uri: 'https://evil.example/cb' }), { redirect: 'manual' });
    expect(wrongRedirect.status).toBe(400);
    expect(await wrongRedirect.text()).toContain('AADSTS50011');
    const unknownApp = await fetch(authorizeUrl('organizations', { client_id: stableId('nobody') }), { redirect: 'manual' });
    expect(unknownApp.status).toBe(400);
    expect(await unknownApp.text()).toContain('AADSTS700016');
  });

  it('admin consent after sign-in is asked of the signed-in account: a non-admin gets AADSTS90094', async () => {
    const side = new MicrosoftSide();
    await side.signIn(authorizeUrl(DEMO_TENANT_ID), DEMO_NON_ADMIN_UPN);
    const consentUrl = `${emulator.httpUrl}/${DEMO_TENANT_ID}/v2.0/adminconsent?${new URLSearchParams({ client_id: DEMO_APP_ID, scope: 'https://graph.microsoft.com/.default', redirect_uri: REDIRECT_URI, state: 'st-2' }).toString()}`;
    const answer = await side.submit(consentUrl, { tenant_choice: DEMO_TENANT_ID, decision: 'not_admin' });
    expect(answer.searchParams.get('error_description')).toMatch(/^AADSTS90094:/);
    expect(emulator.directory.findTenant(DEMO_TENANT_ID)!.servicePrincipal(DEMO_APP_ID)).toBeUndefined();
  });
});

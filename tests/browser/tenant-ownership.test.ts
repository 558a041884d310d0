import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_APP_ID, DEMO_NON_ADMIN_UPN, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant, hookApplication } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import type { TenantInput } from '../../emulator/model.js';
import { launchChromium, screenshot, signedInPage } from '../support/browser.js';
import { MicrosoftSide } from '../support/microsoft.js';
import { freePort } from '../support/ports.js';
import { startProductStack, type ProductStack } from '../support/stack.js';

/** The attacker's own tenant: they are its Global Administrator. */
const ATTACKER_TENANT: TenantInput = {
  id: stableId('tenant', 'evil-corp'),
  displayName: 'Evil Corp',
  verifiedDomains: [{ name: 'evil.example', isDefault: true }],
  users: [{ id: stableId('evil', 'mallory'), displayName: 'Mallory', userPrincipalName: 'mallory@evil.example', directoryRoles: ['Global Administrator'] }],
};

/**
 * A hostile customer: the admin of another Hook org (Globex), with a valid session and valid
 * states of their own, tries to connect the victim's tenant (Northwind, already connected by
 * Acme, so Hook's app is consented there) by every route the old Connect left open.
 */
describe('in a real browser: nobody connects a tenant they do not administer', () => {
  let stack: ProductStack;
  let browser: Browser;
  let callbackBase: string;
  const connections = () => stack.database.db.selectFrom('entra_connections').selectAll().orderBy('id').execute();

  beforeAll(async () => {
    const port = await freePort();
    callbackBase = `http://localhost:${port}/org/settings/integrations/microsoft-entra/callback`;
    [stack, browser] = await Promise.all([
      startProductStack({
        prefix: 'owner',
        applications: [hookApplication([callbackBase])],
        tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }]), ATTACKER_TENANT],
        port,
      }),
      launchChromium(),
    ]);
    const acme = (await findOrgBySlug(stack.database.db, stack.people.acme))!;
    await upsertConnection(stack.database.db, { orgId: acme.id, tenantId: DEMO_TENANT_ID, tenantName: 'Northwind Outfitters', verifiedDomains: [] });
  });
  afterAll(async () => {
    await browser?.close();
    await stack.stop();
  });

  /** The attacker clicks Connect and stops at Microsoft's sign-in page: its URL holds their own fresh state. */
  async function connectAsAttacker(): Promise<{ page: Page; authorize: URL }> {
    const page = await signedInPage(browser, stack.app.url, stack.people.outsider.email);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.waitForURL(/oauth2\/v2.0\/authorize/);
    return { page, authorize: new URL(page.url()) };
  }

  async function expectRefused(page: Page, text: string | RegExp, name: string) {
    await page.waitForURL(/\/org\/settings\/integrations$/);
    const toast = page.getByRole('alert');
    await expect.poll(() => toast.textContent()).toContain('Microsoft Entra was not connected');
    expect(await toast.textContent()).toMatch(text);
    await screenshot(page, name);
    await page.context().close();
  }

  it('a forged callback with the victim’s tenant id and the attacker’s own state is refused', async () => {
    const before = await connections();
    const { page, authorize } = await connectAsAttacker();
    const state = authorize.searchParams.get('state')!;
    await page.goto(`${callbackBase}?admin_consent=True&tenant=${DEMO_TENANT_ID}&state=${encodeURIComponent(state)}`);
    await expectRefused(page, /no sign-in code/, 'owner-forged-callback');
    expect(await connections()).toEqual(before);
  });

  it('signed in to the attacker’s own tenant, a consent answer naming the victim’s tenant is refused', async () => {
    const before = await connections();
    const { page, authorize } = await connectAsAttacker();
    const microsoft = new MicrosoftSide();
    // A genuine sign-in: Mallory really is the admin of Evil Corp.
    const signedIn = await microsoft.signIn(authorize.toString(), 'mallory@evil.example');
    await page.goto(signedIn.toString());
    await page.waitForURL(new RegExp(`/${ATTACKER_TENANT.id}/v2.0/adminconsent`));
    const consentState = new URL(page.url()).searchParams.get('state')!;
    await page.goto(`${callbackBase}?admin_consent=True&tenant=${DEMO_TENANT_ID}&state=${encodeURIComponent(consentState)}`);
    await expectRefused(page, /different tenant than the one you signed in to/, 'owner-tenant-mismatch');
    expect(await connections()).toEqual(before);
  });

  it('an id_token of a user of the victim’s tenant who is no admin there is refused', async () => {
    const before = await connections();
    const { page, authorize } = await connectAsAttacker();
    const signedIn = await new MicrosoftSide().signIn(authorize.toString(), DEMO_NON_ADMIN_UPN);
    await page.goto(signedIn.toString());
    await expectRefused(page, /is not an administrator who can grant tenant-wide consent/, 'owner-not-admin');
    expect(await connections()).toEqual(before);
  });

  it('a replayed code, and a code from an authorization request with another nonce, prove nothing', async () => {
    const before = await connections();
    // A code the attacker obtained from a sign-in Hook asked for, redeemed once already.
    const first = await connectAsAttacker();
    const firstCallback = await new MicrosoftSide().signIn(first.authorize.toString(), 'mallory@evil.example');
    await first.page.goto(firstCallback.toString());
    await first.page.waitForURL(/adminconsent/);
    await first.page.context().close();
    const usedCode = firstCallback.searchParams.get('code')!;

    const replay = await connectAsAttacker();
    await replay.page.goto(`${callbackBase}?code=${encodeURIComponent(usedCode)}&state=${encodeURIComponent(replay.authorize.searchParams.get('state')!)}`);
    await expectRefused(replay.page, /Microsoft did not complete the sign-in/, 'owner-replayed-code');

    // The attacker's own authorization request, Hook's PKCE challenge copied in, but a nonce of their choosing.
    const forgedNonce = await connectAsAttacker();
    const crafted = new URL(forgedNonce.authorize);
    crafted.searchParams.set('nonce', 'attacker-chosen-nonce');
    const code = (await new MicrosoftSide().signIn(crafted.toString(), 'mallory@evil.example')).searchParams.get('code')!;
    await forgedNonce.page.goto(`${callbackBase}?code=${encodeURIComponent(code)}&state=${encodeURIComponent(forgedNonce.authorize.searchParams.get('state')!)}`);
    await expectRefused(forgedNonce.page, /Microsoft did not complete the sign-in/, 'owner-mismatched-nonce');
    expect(await connections()).toEqual(before);
  });

  it('a state of the attacker’s session is worthless in another session, and a used state cannot be replayed', async () => {
    const before = await connections();
    const { page, authorize } = await connectAsAttacker();
    const signedIn = await new MicrosoftSide().signIn(authorize.toString(), 'mallory@evil.example');
    const other = await signedInPage(browser, stack.app.url, stack.people.outsider.email);
    const answer = await other.goto(signedIn.toString());
    expect(answer?.status()).toBe(400);
    await other.context().close();
    await page.goto(signedIn.toString());
    await page.waitForURL(/adminconsent/);
    const again = await page.goto(signedIn.toString());
    expect(again?.status()).toBe(400);
    await page.context().close();
    expect(await connections()).toEqual(before);
  });

  it('the legitimate flow: the attacker connects their own tenant, and only it', async () => {
    const { page } = await connectAsAttacker();
    await page.getByLabel('Or sign in as another account (email)').fill('mallory@evil.example');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(new RegExp(`/${ATTACKER_TENANT.id}/v2.0/adminconsent`));
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.waitForURL(/\/org\/settings\/integrations\?expand=/, { timeout: 30_000 });
    expect(await page.getByRole('article', { name: 'Microsoft Entra' }).getByText('Evil Corp').isVisible()).toBe(true);
    await page.context().close();
    const globex = (await findOrgBySlug(stack.database.db, stack.people.globex))!;
    expect((await connections()).filter((row) => row.org_id === globex.id).map((row) => row.tenant_id)).toEqual([ATTACKER_TENANT.id]);
  });
});

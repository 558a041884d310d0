import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADMIN_UPN, DEMO_TENANT_ID, demoTenant, hookApplication } from '../../emulator/demo.js';
import { launchChromium, screenshot, signedInPage } from '../support/browser.js';
import { freePort } from '../support/ports.js';
import { startProductStack, type ProductStack } from '../support/stack.js';

describe('in a real browser: Connect Hook to Entra', () => {
  let stack: ProductStack;
  let browser: Browser;

  beforeAll(async () => {
    const port = await freePort();
    [stack, browser] = await Promise.all([
      startProductStack({
        prefix: 'browser',
        applications: [hookApplication([`http://localhost:${port}/org/settings/integrations/microsoft-entra/callback`])],
        tenants: [demoTenant()],
        port,
      }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack.stop();
  });

  const signIn = () => signedInPage(browser, stack.app.url, stack.people.admin.email);

  it('Cancel on the consent page lands on Integrations with a toast, and connects nothing', async () => {
    const page = await signIn();
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.waitForURL(/oauth2\/v2.0\/authorize/);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/adminconsent/);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(/\/org\/settings\/integrations$/);
    const toast = page.getByRole('alert');
    await expect.poll(() => toast.textContent()).toContain('Microsoft Entra was not connected');
    expect(await toast.textContent()).toContain("account that can't grant tenant-wide consent");
    await screenshot(page, 'connect-cancelled-toast');
    await toast.getByRole('button', { name: 'Dismiss' }).click();
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.getByText('No directories connected yet.').isVisible()).toBe(true);
    await page.context().close();
  });

  it('sign in, Connect (Starting…), approve, see the Connected badge and the new row, expand its pane', async () => {
    const page = await signIn();
    expect(await page.getByText('Sync groups and members from Microsoft Entra (Azure AD) into Hook.').isVisible()).toBe(true);
    await screenshot(page, 'integrations-empty');

    // By position, not name: the button's accessible name changes to "Starting…" while busy.
    const connect = page.locator('.tile form button');
    expect(await connect.textContent()).toContain('Connect');
    // Hold the request for a moment so the button's in-flight label can be seen.
    await page.route('**/microsoft-entra/connect', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      await route.continue();
    });
    await connect.click();
    await expect.poll(() => connect.textContent()).toContain('Starting…');
    expect(await connect.isDisabled()).toBe(true);

    // Microsoft's sign-in first: the account picked must be an admin of the tenant it connects.
    await page.waitForURL(/organizations\/oauth2\/v2.0\/authorize/);
    expect(await page.getByRole('heading', { name: 'Pick an account' }).isVisible()).toBe(true);
    await screenshot(page, 'sign-in-pick-account');
    await page.getByRole('radio', { name: /Yuki Tanaka/ }).check();
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.waitForURL(new RegExp(`/${DEMO_TENANT_ID}/v2.0/adminconsent`));
    expect(await page.getByText('Entra emulator — this is not Microsoft.').isVisible()).toBe(true);
    expect(await page.getByText(`Signed in as ${DEMO_ADMIN_UPN}`).isVisible()).toBe(true);
    expect(await page.getByText('Read all group memberships').isVisible()).toBe(true);
    await screenshot(page, 'consent-prompt');
    await page.getByRole('button', { name: 'Accept' }).click();

    await page.waitForURL(/\/org\/settings\/integrations\?expand=/, { timeout: 30_000 });
    const tile = page.getByRole('article', { name: 'Microsoft Entra' });
    expect(await tile.getByText('Connected', { exact: true }).isVisible()).toBe(true);
    expect(await tile.getByText('Northwind Outfitters').isVisible()).toBe(true);
    expect(await page.getByRole('status').first().textContent()).toContain('Connected to Northwind Outfitters');
    const row = page.locator('tr.directory-row', { hasText: 'Northwind Outfitters' });
    expect(await row.isVisible()).toBe(true);
    await screenshot(page, 'connected');

    // Collapse by reloading the page without ?expand, then expand by clicking the row (htmx).
    await page.goto(`${stack.app.url}/org/settings/integrations`);
    await page.getByRole('link', { name: 'Northwind Outfitters' }).click();
    const pane = page.getByRole('region', { name: 'Northwind Outfitters workspace' });
    await pane.waitFor();
    expect(await pane.getByText('Synced groups').first().isVisible()).toBe(true);
    expect(await pane.getByRole('button', { name: 'Manage groups' }).isVisible()).toBe(true);
    expect(await pane.locator('.counts dd').allTextContents()).toEqual(['0', '0', '0', '0']); // groups, users, guests, disabled
    await screenshot(page, 'workspace-pane');
    await page.context().close();
  });

  it('an account that is not a tenant admin is refused with the toast, and nothing is connected', async () => {
    const connections = () => stack.database.db.selectFrom('entra_connections').selectAll().orderBy('id').execute();
    const before = await connections();
    const page = await signIn();
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.waitForURL(/oauth2\/v2.0\/authorize/);
    await page.getByRole('radio', { name: /Ben Carter/ }).check();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/org\/settings\/integrations$/);
    const toast = page.getByRole('alert');
    await expect.poll(() => toast.textContent()).toContain('is not an administrator who can grant tenant-wide consent');
    expect(await toast.textContent()).toContain("account that can't grant tenant-wide consent");
    await screenshot(page, 'connect-not-admin-toast');
    expect(await connections()).toEqual(before);
    await page.context().close();
  });
});

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_APP_ID, HOOK_APP_ROLES } from '../../emulator/demo.js';
import { generateTenant } from '../../emulator/generate.js';
import { stableId } from '../../emulator/ids.js';
import { directorySyncWorkflowId } from '../../workflows/sync/messages.js';
import { launchChromium, screenshot, signedInPage } from '../support/browser.js';
import { startProductStack, type ProductStack } from '../support/stack.js';

// More than the picker's 1,000: the Zulu groups sort last and are found only by search.
const TENANT = generateTenant({
  seed: 5,
  displayName: 'Tailspin Toys',
  domain: 'tailspin-picks.example',
  users: 120,
  groups: 1_000,
  membersPerGroup: 3,
  nestedShare: 0,
  guestShare: 0,
  disabledShare: 0,
  sharedMailboxShare: 0,
  hiddenShare: 0,
  servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
});
const ZULU = ['Zulu Pickers', 'Zulu Packers'].map((displayName) => ({ id: stableId('picks', displayName), displayName, mailEnabled: false, securityEnabled: true, members: [TENANT.users![0]!.id] }));
TENANT.groups!.push(...ZULU);

describe('in a real browser: groups picked from search stay picked', () => {
  let stack: ProductStack;
  let browser: Browser;
  let connectionId: string;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startProductStack({ prefix: 'picks', tenants: [TENANT] }), launchChromium()]);
    const acme = await findOrgBySlug(stack.database.db, stack.people.acme);
    connectionId = await upsertConnection(stack.database.db, { orgId: acme!.id, tenantId: TENANT.id, tenantName: 'Tailspin Toys', verifiedDomains: [] });
  });
  afterAll(async () => {
    await browser?.close();
    await stack.temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId)).terminate().catch(() => undefined);
    await stack.stop();
  });

  it('a pick from search survives another search, clearing the search, the preview and Back', async () => {
    const page = await signedInPage(browser, stack.app.url, stack.people.admin.email);
    await page.goto(`${stack.app.url}/org/settings/integrations?expand=${connectionId}`);
    await page.getByRole('button', { name: 'Manage groups' }).click();
    await page.getByRole('button', { name: 'Continue to preview' }).waitFor({ timeout: 60_000 });
    expect(await page.getByText('Zulu Pickers').count()).toBe(0); // past the first 1,000
    const search = page.getByRole('searchbox', { name: 'Search groups by name' });
    await search.fill('Zulu Pickers');
    const results = page.locator('#search-results');
    await results.locator('label', { hasText: 'Zulu Pickers' }).waitFor();
    await results.getByRole('checkbox').first().check();
    expect(await page.locator('#selected-count').textContent()).toBe('1');

    await search.fill('Zulu Packers'); // another search replaces the results
    await results.locator('label', { hasText: 'Zulu Packers' }).waitFor();
    expect(await results.locator('label', { hasText: 'Zulu Pickers' }).count()).toBe(0);
    const picked = page.getByRole('region', { name: 'Picked from search' });
    expect(await picked.getByRole('checkbox', { name: 'Zulu Pickers' }).isChecked()).toBe(true);
    expect(await page.locator('#selected-count').textContent()).toBe('1');
    await results.getByRole('checkbox').first().check();
    expect(await page.locator('#selected-count').textContent()).toBe('2');

    await search.fill('Zulu'); // both in the results again: shown as picked
    await results.locator('label', { hasText: 'Zulu Pickers' }).waitFor();
    for (const box of await results.getByRole('checkbox').all()) expect(await box.isChecked()).toBe(true);
    // Enter searches; it does not submit the picker.
    await search.fill('Zulu Packers');
    await search.press('Enter');
    await results.locator('label', { hasText: 'Zulu Packers' }).waitFor();
    expect(page.url()).toContain('/microsoft-entra/groups?connection=');
    // A refused search (422) shows its reason in place.
    await search.fill('x'.repeat(101));
    await results.getByText('Search for at most 100 characters of a group name.').waitFor();
    await search.fill(''); // cleared
    await screenshot(page, 'picker-picked-from-search');
    expect(await page.locator('#selected-count').textContent()).toBe('2');

    await page.getByRole('button', { name: 'Continue to preview' }).click();
    await page.getByRole('heading', { name: 'Preview the sync' }).waitFor();
    for (const group of ZULU) expect(await page.getByRole('heading', { name: group.displayName }).isVisible()).toBe(true);
    await page.getByRole('link', { name: 'Back' }).click();
    await page.getByRole('button', { name: 'Continue to preview' }).waitFor();
    for (const group of ZULU) expect(await page.locator(`#g-${group.id}`).isChecked()).toBe(true);
    expect(await page.locator('#selected-count').textContent()).toBe('2');
    await page.context().close();
  }, 120_000);
});

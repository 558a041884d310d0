import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_APP_ID, HOOK_APP_ROLES } from '../../emulator/demo.js';
import { generateTenant } from '../../emulator/generate.js';
import { signedInPage } from '../support/browser.js';
import { startPaneStack } from '../support/pane-stack.js';
import type { ProductStack } from '../support/stack.js';

const TENANT = generateTenant({
  seed: 21,
  displayName: 'Tailspin Toys',
  domain: 'tailspin.example',
  users: 160,
  groups: 5,
  membersPerGroup: 70,
  nestedShare: 0,
  guestShare: 0,
  disabledShare: 0,
  sharedMailboxShare: 0,
  hiddenShare: 0,
  servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
});

describe('in a real browser: the pane without JavaScript, and the sync status polling alone', () => {
  let stack: ProductStack;
  let browser: Browser;
  let connectionId: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ stack, browser, connectionId, stop } = await startPaneStack('plain', TENANT, 'Tailspin Toys'));
  });
  afterAll(() => stop?.());

  it('without JavaScript: Sync now, All users, Show more, the user search and the group search are plain pages', async () => {
    const page = await signedInPage(browser, stack.app.url, stack.people.admin.email, { javaScript: false });
    await page.goto(`${stack.app.url}/org/settings/integrations?expand=${connectionId}`);
    const pane = page.getByRole('region', { name: 'Tailspin Toys workspace' });
    await pane.getByRole('button', { name: 'Sync now' }).click();
    await page.waitForURL(/expand=/);
    // Nothing polls without JavaScript: the admin reloads.
    await expect.poll(async () => (await page.reload(), await pane.getByText(/Last sync[\s\S]*added/).count()), { timeout: 30_000, interval: 500 }).toBe(1);

    await pane.getByRole('link', { name: 'All users' }).click();
    expect(new URL(page.url()).searchParams.get('tab')).toBe('users');
    const ids = () => page.locator('.user-list > li[data-user-id]').evaluateAll((items) => items.map((item) => item.getAttribute('data-user-id')));
    const first = await ids();
    expect(first).toHaveLength(50);
    await page.getByRole('link', { name: 'Show more' }).click();
    const second = await ids();
    expect(second.length).toBeGreaterThan(0);
    expect(second.filter((id) => first.includes(id))).toEqual([]); // the next page, from where the first ended

    const someone = (await page.locator('.user-list .member-name').first().textContent())!;
    await page.getByPlaceholder('Search by name or email').fill(someone);
    await page.getByPlaceholder('Search by name or email').press('Enter');
    await page.waitForURL(/q=/);
    const found = await page.locator('.user-list .member-name').allTextContents();
    expect(found).toContain(someone);
    expect(found.every((name) => name.toLowerCase().includes(someone.toLowerCase()))).toBe(true);

    await page.goto(`${stack.app.url}/org/settings/integrations?expand=${connectionId}`);
    await pane.getByRole('button', { name: 'Manage groups' }).click();
    await expect.poll(async () => (await page.reload(), await page.getByRole('button', { name: 'Continue to preview' }).count()), { timeout: 30_000, interval: 500 }).toBe(1);
    const wanted = TENANT.groups![4]!.displayName;
    await page.getByPlaceholder('Search all groups by name').fill(wanted);
    await page.getByPlaceholder('Search all groups by name').press('Enter'); // searches; it does not submit the preview
    await page.waitForURL(/groups\/search/);
    expect(await page.locator('#search-results').getByText(wanted).count()).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Continue to preview' }).count()).toBe(1);
    await page.context().close();
  });

  it('with JavaScript: during a sync only the status region polls, so a search being typed in the pane stays; the pane reads itself once when the sync ends', async () => {
    const page = await signedInPage(browser, stack.app.url, stack.people.admin.email);
    const statusPolls: string[] = [];
    const paneReads: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/sync-status')) statusPolls.push(request.url());
      if (request.url().includes('/pane')) paneReads.push(request.url());
    });
    stack.emulator.faults.latencyMs = 4_000; // a sync long enough to watch (a delta cycle is two requests, one after the other)
    try {
      await page.goto(`${stack.app.url}/org/settings/integrations?expand=${connectionId}&tab=users`);
      const pane = page.getByRole('region', { name: 'Tailspin Toys workspace' });
      await pane.getByRole('button', { name: 'Sync now' }).click();
      await page.waitForURL(/expand=/);
      await pane.getByText('Syncing now…').waitFor();
      await pane.getByRole('link', { name: 'All users' }).click();
      const search = page.getByPlaceholder('Search by name or email');
      await search.waitFor();
      // A marker on the very element: a re-rendered pane would replace it and lose it.
      await search.evaluate((input) => input.setAttribute('data-typing', 'yes'));
      await search.pressSequentially('zz', { delay: 50 });
      const readsBefore = paneReads.length;
      await expect.poll(() => statusPolls.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
      expect(await page.locator('input[data-typing="yes"]').inputValue()).toBe('zz');
      expect(paneReads.length).toBe(readsBefore);
      await pane.getByText(/Last sync[\s\S]*added/).waitFor({ timeout: 60_000 });
      await expect.poll(() => paneReads.length).toBe(readsBefore + 1);
      // The one read at the end keeps the tab and the search.
      expect(paneReads.at(-1)).toContain('tab=users');
      expect(await search.inputValue()).toBe('zz');
    } finally {
      stack.emulator.faults.latencyMs = 0;
      await page.context().close();
    }
  });
});

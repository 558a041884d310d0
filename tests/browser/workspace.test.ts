import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_APP_ID, HOOK_APP_ROLES } from '../../emulator/demo.js';
import { generateTenant } from '../../emulator/generate.js';
import { screenshot, signedInPage } from '../support/browser.js';
import { startPaneStack } from '../support/pane-stack.js';
import type { ProductStack } from '../support/stack.js';

const TENANT = generateTenant({
  seed: 9,
  displayName: 'Litware Inc',
  domain: 'litware.example',
  users: 240,
  groups: 6,
  membersPerGroup: 60,
  nestedShare: 0,
  guestShare: 0.1,
  disabledShare: 0.05,
  sharedMailboxShare: 0.02,
  hiddenShare: 0,
  servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
});

describe('in a real browser: the workspace pane after a sync', () => {
  let stack: ProductStack;
  let browser: Browser;
  let connectionId: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ stack, browser, connectionId, stop } = await startPaneStack('pane', TENANT, 'Litware Inc'));
  });
  afterAll(() => stop?.());

  it('Sync now, then the Groups tab, All users (search, Show more), Authorized domains, and Disconnect', async () => {
    const expected = new Set(TENANT.groups!.slice(0, 3).flatMap((group) => group.members as string[]));
    const page = await signedInPage(browser, stack.app.url, stack.people.admin.email);
    const context = page.context();
    await page.goto(`${stack.app.url}/org/settings/integrations?expand=${connectionId}`);
    const pane = page.getByRole('region', { name: 'Litware Inc workspace' });
    expect(await pane.getByText('Not synced yet.').isVisible()).toBe(true);

    await pane.getByRole('button', { name: 'Sync now' }).click();
    await page.waitForURL(/expand=/);
    // The status line polls while the sync runs, then shows the last run's counts.
    await pane.getByText(/Last sync[\s\S]*added/).waitFor({ timeout: 30_000 });
    await page.reload();
    const counts = await pane.locator('.counts dd').allTextContents();
    expect(counts[0]).toBe('3');
    // Users are the active accounts; disabled ones are counted apart.
    const byId = new Map(TENANT.users!.map((user) => [user.id, user]));
    const enabled = [...expected].filter((id) => byId.get(id)?.accountEnabled !== false).length;
    expect(enabled).toBeLessThan(expected.size);
    expect(Number(counts[1]!.replace(/,/g, ''))).toBe(enabled);
    expect(Number(counts[3]!.replace(/,/g, ''))).toBe(expected.size - enabled);
    expect(await pane.locator('.pane-groups tbody tr').count()).toBe(3);
    expect(await pane.locator('.domain-list li').first().textContent()).toMatch(/litware\.example\s+\d+/);
    await screenshot(page, 'pane-groups');

    await pane.getByRole('link', { name: 'All users' }).click();
    const list = page.locator('.user-list > li:not(.more)');
    await list.first().waitFor();
    expect(await list.count()).toBe(50);
    await page.getByRole('link', { name: 'Show more' }).click();
    await expect.poll(() => list.count()).toBe(100);
    const ids = await page.locator('.user-list > li[data-user-id]').evaluateAll((items) => items.map((item) => item.getAttribute('data-user-id')));
    expect(new Set(ids).size).toBe(100); // keyset paging: no user twice, none skipped
    const names = await page.locator('.user-list .member-name').allTextContents();
    await screenshot(page, 'pane-users');

    const someone = names[3]!;
    // Case does not matter; every result matches, and the person searched for is among them.
    await page.getByPlaceholder('Search by name or email').fill(someone.toUpperCase());
    await expect
      .poll(async () => {
        const found = await page.locator('.user-list .member-name').allTextContents();
        return found.includes(someone) && found.every((name) => name.toLowerCase().includes(someone.toLowerCase()));
      })
      .toBe(true);

    await page.goto(`${stack.app.url}/org/settings/integrations?expand=${connectionId}`);
    await pane.getByText('Disconnect', { exact: true }).click();
    await pane.getByRole('button', { name: 'Disconnect and remove users' }).click();
    await page.waitForURL(/expand=/);
    expect(await page.getByRole('status').first().textContent()).toContain('Litware Inc was disconnected and its users removed from Hook.');
    expect(await page.locator('tr.directory-row').getByText('Disconnected').isVisible()).toBe(true);
    await screenshot(page, 'pane-disconnected');
    const remaining = await stack.database.db.selectFrom('directory_users').select('user_id').where('connection_id', '=', connectionId).where('removed_at', 'is', null).execute();
    expect(remaining).toEqual([]);
    await context.close();
  });
});

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_APP_ID, HOOK_APP_ROLES } from '../../emulator/demo.js';
import { generateTenant } from '../../emulator/generate.js';
import { directorySyncWorkflowId } from '../../workflows/sync/messages.js';
import { launchChromium, screenshot, signedInPage } from '../support/browser.js';
import { startProductStack, type ProductStack } from '../support/stack.js';

// 150 groups: enough for "Select all" to pass the 100-group heads-up.
const TENANT = generateTenant({
  seed: 42,
  displayName: 'Contoso Picker',
  domain: 'contoso-picker.example',
  users: 400,
  groups: 150,
  membersPerGroup: 20,
  nestedShare: 0.05,
  guestShare: 0.05,
  disabledShare: 0.03,
  sharedMailboxShare: 0.02,
  hiddenShare: 0,
  servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
});

describe('in a real browser: pick groups, preview, save', () => {
  let stack: ProductStack;
  let browser: Browser;
  let connectionId: string;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startProductStack({ prefix: 'picker', tenants: [TENANT] }), launchChromium()]);
    const acme = await findOrgBySlug(stack.database.db, stack.people.acme);
    connectionId = await upsertConnection(stack.database.db, { orgId: acme!.id, tenantId: TENANT.id, tenantName: 'Contoso Picker', verifiedDomains: [] });
  });
  afterAll(async () => {
    await browser?.close();
    await stack.temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId)).terminate().catch(() => undefined);
    await stack.stop();
  });

  const counter = (page: Page) => page.locator('#selected-count').textContent();

  it('counter, Select all, the heads-up past 100, search, preview, save, and the confirmation when unsyncing', async () => {
    const page = await signedInPage(browser, stack.app.url, stack.people.admin.email);
    const context = page.context();
    await page.goto(`${stack.app.url}/org/settings/integrations?expand=${connectionId}`);
    await page.getByRole('button', { name: 'Manage groups' }).click();
    await page.getByRole('heading', { name: 'Select groups to sync' }).waitFor();
    await page.locator('#picker-form').waitFor({ timeout: 30_000 });

    const boxes = page.locator('table.groups tbody input[type=checkbox]');
    expect(await boxes.count()).toBe(150);
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    expect(await counter(page)).toBe('2');
    expect(await page.locator('#large-heads-up').isHidden()).toBe(true);

    await page.getByRole('button', { name: 'Select all (150)' }).click();
    expect(await counter(page)).toBe('150');
    expect(await page.locator('#large-heads-up').isVisible()).toBe(true);
    await screenshot(page, 'picker-select-all');
    await page.getByRole('button', { name: 'Select all (150)' }).click();
    expect(await counter(page)).toBe('0');

    // Search, pick one result, and one row from the list.
    const target = TENANT.groups![7]!.displayName;
    await page.getByPlaceholder('Search all groups by name').fill(target.split(' ')[0]!);
    await page.locator('#search-results table').waitFor();
    await page.locator('#search-results input[type=checkbox]').first().check();
    await boxes.nth(3).check();
    const chosen = Number(await counter(page));
    expect(chosen).toBe(2);
    await screenshot(page, 'picker-search');

    await page.getByRole('button', { name: 'Continue to preview' }).click();
    await page.waitForURL(/microsoft-entra\/preview/);
    await page.getByRole('heading', { name: 'Preview the sync' }).waitFor();
    expect(await page.locator('.preview-group').count()).toBe(2);
    expect(await page.locator('.preview-group header .muted').first().textContent()).toMatch(/^\d+ of \d+ members$/);
    await screenshot(page, 'preview');

    await page.getByRole('button', { name: 'Save selection' }).click();
    await page.waitForURL(/\/org\/settings\/integrations\?expand=/);
    expect(await page.getByRole('status').first().textContent()).toContain('Group selection saved.');
    expect(await page.locator('tr.directory-row td').nth(1).textContent()).toBe('2');
    await screenshot(page, 'saved');

    // Saved groups come back pre-checked; unchecking one asks first (dismissed: it stays checked).
    await page.getByRole('button', { name: 'Manage groups' }).click();
    await page.locator('#picker-form').waitFor({ timeout: 30_000 });
    expect(await counter(page)).toBe('2');
    const saved = page.locator('table.groups tbody input[type=checkbox][data-saved="true"]').first();
    let asked = '';
    page.once('dialog', (dialog) => {
      asked = dialog.message();
      void dialog.dismiss();
    });
    await saved.click();
    // It names the group and its size, and says what happens.
    const name = await saved.evaluate((box) => box.closest('tr')!.querySelector('label')!.getAttribute('title'));
    expect(asked).toMatch(new RegExp(`^Unsync ${name} \\(\\d+ members\\)\\? Their members leave Hook unless they're also in another synced group; the preview shows who\\.$`));
    expect(await saved.isChecked()).toBe(true);
    await context.close();
  });
});

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { createWebhookEndpoint } from '../../db/repositories/webhooks.js';
import { waitFor } from '../support/wait.js';
import { DEMO_APP_ID, HOOK_APP_ROLES } from '../../emulator/demo.js';
import { generateTenant } from '../../emulator/generate.js';
import { stableId } from '../../emulator/ids.js';
import { directorySyncWorkflowId } from '../../workflows/sync/messages.js';
import { PASSWORD } from '../support/app.js';
import { launchChromium, screenshot } from '../support/browser.js';
import { startProductStack, type ProductStack } from '../support/stack.js';
import { testWebhookSecrets } from '../support/secrets.js';

// 1,000 groups (the picker's page) and names with no place to break.
const LONG_GROUP = `Project${'Supercalifragilistic'.repeat(8)}Team`;
const LONG_USER = `Maximiliana${'Wolfeschlegelsteinhausen'.repeat(4)}`;
const TENANT = generateTenant({
  seed: 77,
  displayName: `Fabrikam ${'Worldwide'.repeat(6)} Holdings`,
  domain: 'fabrikam-layout.example',
  users: 300,
  groups: 1_000,
  membersPerGroup: 4,
  nestedShare: 0,
  guestShare: 0.05,
  disabledShare: 0.03,
  sharedMailboxShare: 0.02,
  hiddenShare: 0,
  servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
});
const longUser = stableId('layout', 'long-user');
TENANT.users!.push({ id: longUser, displayName: LONG_USER, userPrincipalName: `${LONG_USER.toLowerCase()}@fabrikam-layout.example`, mail: `${LONG_USER.toLowerCase()}@fabrikam-layout.example` });
TENANT.groups!.unshift({ id: stableId('layout', 'long-group'), displayName: `A ${LONG_GROUP}`, mailEnabled: false, securityEnabled: true, members: [longUser, TENANT.users![0]!.id] });

const PHONES = [
  { width: 360, height: 740 },
  { width: 390, height: 844 },
  { width: 430, height: 932 },
];
const LAPTOP = { width: 1366, height: 800 };

/** The page is as wide as the screen: nothing scrolls sideways. */
async function expectNoSidewaysScroll(page: Page, what: string) {
  const [scrollWidth, innerWidth, widest] = await page.evaluate(() => {
    // The outermost element that sticks out, to name in the failure.
    const over = Array.from(document.querySelectorAll('body *')).find((element) => element.getBoundingClientRect().right > window.innerWidth + 0.5);
    return [document.documentElement.scrollWidth, window.innerWidth, over ? `${over.tagName.toLowerCase()}.${Array.from(over.classList).join('.')}` : 'none'] as const;
  });
  expect(scrollWidth, `${what}: page ${scrollWidth}px wide in a ${innerWidth}px screen (${widest} sticks out)`).toBeLessThanOrEqual(innerWidth);
}

/** The element is on screen, all of it, without scrolling sideways. */
async function expectOnScreen(page: Page, selector: string, what: string) {
  const box = await page.locator(selector).first().boundingBox();
  const { width, height } = page.viewportSize()!;
  expect(box, what).not.toBeNull();
  expect(box!.x, what).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width, what).toBeLessThanOrEqual(width);
  expect(box!.y + box!.height, what).toBeLessThanOrEqual(height);
}

describe('in a real browser: every page at phone and laptop widths', () => {
  let stack: ProductStack;
  let browser: Browser;
  let connectionId: string;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startProductStack({ prefix: 'layout', tenants: [TENANT] }), launchChromium()]);
    const acme = await findOrgBySlug(stack.database.db, stack.people.acme);
    connectionId = await upsertConnection(stack.database.db, { orgId: acme!.id, tenantId: TENANT.id, tenantName: TENANT.displayName, verifiedDomains: [{ name: 'fabrikam-layout.example', isDefault: true, isInitial: false }] });
    // Listed only (no delivery runs): a long URL and every event type, for Settings → Webhooks.
    await createWebhookEndpoint(stack.database.db, { orgId: acme!.id, url: `https://hooks.example.com/${'very-long-path-segment/'.repeat(8)}receive`, eventTypes: ['user.added', 'user.removed', 'membership.added', 'membership.removed'], createdBy: null }, testWebhookSecrets);
  });
  afterAll(async () => {
    await browser?.close();
    await stack.temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId)).terminate().catch(() => undefined);
    await stack.stop();
  });

  /** Every Content-Security-Policy violation any page reported: there must be none. */
  const violations: string[] = [];

  async function open(viewport: { width: number; height: number }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) violations.push(`${page.url()}: ${message.text()}`);
    });
    await page.goto(`${stack.app.url}/sign-in`);
    await expectNoSidewaysScroll(page, `sign-in at ${viewport.width}`);
    await screenshot(page, `layout-${viewport.width}-sign-in`);
    await page.getByLabel('Email').fill(stack.people.admin.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/org\/settings\/integrations/);
    return page;
  }

  it('the whole walk at laptop width first: pick (with the long names), preview, save, the synced pane — no page overflows', async () => {
    const page = await open(LAPTOP);
    await page.goto(`${stack.app.url}/org/settings/integrations?expand=${connectionId}`);
    await page.getByRole('button', { name: 'Manage groups' }).click();
    await page.getByRole('button', { name: 'Continue to preview' }).waitFor({ timeout: 60_000 });
    await expectNoSidewaysScroll(page, 'picker at laptop width');
    const longLabel = page.locator('label', { hasText: LONG_GROUP });
    expect(await longLabel.getAttribute('title')).toBe(`A ${LONG_GROUP}`); // truncated, the full name available
    await longLabel.click();
    await page.locator('input[name=group]').nth(1).check();
    await page.getByRole('button', { name: 'Continue to preview' }).click();
    await page.getByRole('heading', { name: 'Preview the sync' }).waitFor();
    await expectNoSidewaysScroll(page, 'preview at laptop width');
    await screenshot(page, 'layout-1366-preview');
    await page.getByRole('button', { name: 'Save selection' }).click();
    await page.waitForURL(/expand=/);
    const pane = page.getByRole('region', { name: `${TENANT.displayName} workspace` });
    await pane.getByText(/Last sync[\s\S]*added/).waitFor({ timeout: 30_000 });
    // Without a reload, the Synced directories row shows what the pane shows.
    // The status line says the sync ended; the pane then reads itself once (directory-synced): wait for that read.
    const paneUsers = await waitFor(async () => {
      const text = await pane.locator('.counts dd').nth(1).textContent();
      return Number(text) > 0 ? text : undefined;
    }, 'the pane to read itself after the sync', 15_000);
    expect(Number(paneUsers)).toBeGreaterThan(0);
    expect(await page.locator('tr.directory-row td[data-label="Users"]').textContent()).toBe(paneUsers);
    expect(await page.locator('tr.directory-row td[data-label="Last sync"]').textContent()).not.toBe('Not yet');
    await page.reload();
    await expectNoSidewaysScroll(page, 'pane at laptop width');
    await screenshot(page, 'layout-1366-pane');
    await pane.getByRole('link', { name: 'All users' }).click();
    await pane.getByRole('searchbox').waitFor();
    await expectNoSidewaysScroll(page, 'All users at laptop width');
    await page.context().close();
  }, 120_000);

  for (const phone of PHONES) {
    it(`at ${phone.width}×${phone.height}: Integrations, the pane and its tabs, the 1,000-group picker and the preview fit the screen`, async () => {
      const page = await open(phone);
      await expectNoSidewaysScroll(page, 'Integrations');
      await page.goto(`${stack.app.url}/org/settings/integrations?expand=${connectionId}`);
      const pane = page.getByRole('region', { name: `${TENANT.displayName} workspace` });
      await pane.waitFor();
      await expectNoSidewaysScroll(page, 'workspace pane (Groups)');
      await screenshot(page, `layout-${phone.width}-pane`);
      await pane.getByRole('link', { name: 'All users' }).click();
      await pane.getByRole('searchbox').waitFor();
      await expectNoSidewaysScroll(page, 'workspace pane (All users)');
      await screenshot(page, `layout-${phone.width}-all-users`);
      await pane.getByRole('link', { name: 'Sync runs' }).click();
      await pane.locator('table.sync-runs').waitFor();
      await expectNoSidewaysScroll(page, 'workspace pane (Sync runs)');
      await screenshot(page, `layout-${phone.width}-sync-runs`);
      await page.goto(`${stack.app.url}/org/settings/integrations?expand=${connectionId}`);
      await pane.locator('.pane-groups th a').first().click();
      await page.getByRole('heading', { name: 'History' }).waitFor();
      await expectNoSidewaysScroll(page, 'a group\'s history');
      await screenshot(page, `layout-${phone.width}-group-history`);
      await page.goto(`${stack.app.url}/org/settings/webhooks`);
      await expectNoSidewaysScroll(page, 'Settings → Webhooks');
      await screenshot(page, `layout-${phone.width}-webhooks`);

      await page.goto(`${stack.app.url}/org/settings/integrations?expand=${connectionId}`);
      await page.getByRole('button', { name: 'Manage groups' }).click();
      await page.getByRole('button', { name: 'Continue to preview' }).waitFor({ timeout: 60_000 });
      expect(await page.locator('input[name=group]').count()).toBeGreaterThanOrEqual(1_000);
      await expectNoSidewaysScroll(page, '1,000-group picker');
      await expectOnScreen(page, '#select-all', 'Select all');
      await expectOnScreen(page, '.counter', 'the counter');
      await expectOnScreen(page, '#continue', 'Continue to preview (sticky)');
      await page.mouse.wheel(0, 20_000); // far down the list, the actions stay reachable
      await expectOnScreen(page, '#continue', 'Continue to preview after scrolling');
      await screenshot(page, `layout-${phone.width}-picker`);
      await page.getByRole('button', { name: 'Continue to preview' }).click();
      await page.getByRole('heading', { name: 'Preview the sync' }).waitFor();
      await expectNoSidewaysScroll(page, 'preview');
      await expectOnScreen(page, 'button:has-text("Save selection")', 'Save selection (sticky)');
      await screenshot(page, `layout-${phone.width}-preview`);
      await page.context().close();
    }, 120_000);
  }

  it('no page broke its Content-Security-Policy', () => {
    expect(violations).toEqual([]);
  });
});

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_APP_ID, HOOK_APP_ROLES } from '../../emulator/demo.js';
import { generateTenant } from '../../emulator/generate.js';
import { directorySyncWorkflowId } from '../../workflows/sync/messages.js';
import { launchChromium, screenshot, signedInPage } from '../support/browser.js';
import { startProductStack, type ProductStack } from '../support/stack.js';

// Names an Entra admin (or an attacker with a directory account) can set: each would run script
// if a page put it into HTML unescaped, and each sets a flag the test looks for.
const HOSTILE = [
  '<script>window.__xss = "script"</script>',
  '<img src=x onerror="window.__xss = \'img\'">',
  '"><svg onload="window.__xss = \'svg\'">',
  "'; window.__xss = 'quote'; '",
  '<a href="javascript:window.__xss=\'link\'">click</a>',
  '<%= 7 * 7 %> {{7*7}} ${7*7}',
];

const TENANT = generateTenant({
  seed: 13,
  displayName: 'Evil Corp <b>bold</b>',
  domain: 'evil.example',
  users: 40,
  groups: 4,
  membersPerGroup: 12,
  nestedShare: 0,
  guestShare: 0,
  disabledShare: 0,
  sharedMailboxShare: 0,
  hiddenShare: 0,
  servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
});
TENANT.groups!.forEach((group, index) => (group.displayName = `${HOSTILE[index]!} group`));
const hostileUsers = TENANT.groups!.flatMap((group) => group.members as string[]).slice(0, HOSTILE.length);
for (const [index, id] of hostileUsers.entries()) {
  const user = TENANT.users!.find((candidate) => candidate.id === id)!;
  user.displayName = HOSTILE[index]!;
  user.mail = `"${HOSTILE[index]!}"@evil.example`;
}

describe('in a real browser: names from Entra that carry HTML and script are shown as text', () => {
  let stack: ProductStack;
  let browser: Browser;
  let connectionId: string;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startProductStack({ prefix: 'xss', tenants: [TENANT] }), launchChromium()]);
    const acme = await findOrgBySlug(stack.database.db, stack.people.acme);
    connectionId = await upsertConnection(stack.database.db, { orgId: acme!.id, tenantId: TENANT.id, tenantName: TENANT.displayName, verifiedDomains: [] });
    await stack.database.db
      .insertInto('synced_groups')
      .values(TENANT.groups!.map((group) => ({ connection_id: connectionId, group_id: group.id, display_name: 'placeholder' })))
      .execute();
  });
  afterAll(async () => {
    await browser?.close();
    await stack.temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId)).terminate().catch(() => undefined);
    await stack.stop();
  });

  /** Nothing ran: no flag, no dialog, no script error. */
  async function noScriptRan(page: Page, events: string[]) {
    expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
    expect(events).toEqual([]);
  }

  it('the picker, the pane after a sync (Groups, All users) and the search show every name literally', async () => {
    const page = await signedInPage(browser, stack.app.url, stack.people.admin.email);
    const events: string[] = [];
    page.on('dialog', (dialog) => {
      events.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => events.push(`error: ${error.message}`));

    // The pane: Sync now reads the names from the emulator.
    await page.goto(`${stack.app.url}/org/settings/integrations?expand=${connectionId}`);
    const pane = page.locator('.workspace-pane').first();
    await pane.getByRole('button', { name: 'Sync now' }).click();
    await pane.getByText(/Last sync[\s\S]*added/).waitFor({ timeout: 30_000 });
    await page.reload();
    await noScriptRan(page, events);
    const groupNames = await page.locator('.pane-groups tbody tr').allTextContents();
    for (const name of HOSTILE.slice(0, TENANT.groups!.length)) expect(groupNames.some((row) => row.includes(`${name} group`))).toBe(true);
    expect(await page.getByText(TENANT.displayName, { exact: false }).first().isVisible()).toBe(true);
    await screenshot(page, 'hostile-groups');

    await pane.getByRole('link', { name: 'All users' }).click();
    await page.locator('.user-list > li').first().waitFor();
    const userNames = await page.locator('.user-list .member-name').allTextContents();
    for (const name of HOSTILE) expect(userNames).toContain(name);
    await page.getByPlaceholder('Search by name or email').fill('<script>');
    await expect.poll(async () => page.locator('.user-list .member-name').allTextContents()).toEqual([HOSTILE[0]]);
    await noScriptRan(page, events);
    await screenshot(page, 'hostile-users');

    // The picker lists the same names, read from Entra by the selection workflow.
    await page.goto(`${stack.app.url}/org/settings/integrations?expand=${connectionId}`);
    await page.getByRole('button', { name: 'Manage groups' }).click();
    await page.locator('#picker-form').waitFor({ timeout: 30_000 });
    const pickerNames = await page.locator('table.groups tbody').textContent();
    for (const name of HOSTILE.slice(0, TENANT.groups!.length)) expect(pickerNames).toContain(`${name} group`);
    await noScriptRan(page, events);
    await screenshot(page, 'hostile-picker');
    await page.context().close();
  });
});

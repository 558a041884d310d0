import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { savedGroupIds } from '../../db/repositories/selection.js';
import { DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import { generateTenant } from '../../emulator/generate.js';
import { stableId } from '../../emulator/ids.js';
import { directorySyncWorkflowId } from '../../workflows/sync/messages.js';
import { Browser, saveFields } from '../support/app.js';
import { startProductStack, type ProductStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const group = (key: string) => stableId('northwind', 'group', key);
const MANY_GROUPS = generateTenant({
  seed: 1_005,
  displayName: 'Many Groups',
  domain: 'many-groups.example',
  users: 1_100,
  groups: 1_005,
  membersPerGroup: 4,
  nestedShare: 0,
  guestShare: 0,
  disabledShare: 0,
  sharedMailboxShare: 0,
  hiddenShare: 0,
  servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
});
const GROUPS = '/org/settings/integrations/microsoft-entra/groups';
const PREVIEW = '/org/settings/integrations/microsoft-entra/preview';

describe('Manage groups over HTTP: picker, preview and save', () => {
  let stack: ProductStack;
  let connectionId: string;
  let admin: Browser;

  beforeAll(async () => {
    stack = await startProductStack({ prefix: 'groups', tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }]), MANY_GROUPS] });
    const acme = await findOrgBySlug(stack.database.db, stack.people.acme);
    connectionId = await upsertConnection(stack.database.db, { orgId: acme!.id, tenantId: DEMO_TENANT_ID, tenantName: 'Northwind Outfitters', verifiedDomains: [] });
    admin = new Browser(stack.app.url);
    await admin.signIn(stack.people.admin.email);
  });
  afterAll(async () => {
    await stack.temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId)).terminate().catch(() => undefined);
    await stack.stop();
  });

  const picker = async () => {
    await admin.request('/org/settings/integrations'); // the pane's CSRF token
    expect((await admin.post(GROUPS, { connection: connectionId })).status).toBe(303); // Manage groups
    return waitFor(async () => {
      const page = await admin.request(`${GROUPS}?connection=${connectionId}`);
      return page.text.includes('Loading groups from Microsoft Entra…') ? undefined : page;
    }, 'the picker to load');
  };

  it('shows "Select groups to sync" with Name, Members and Type for every group, in name order', async () => {
    const page = await picker();
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Select groups to sync</h1>');
    const names = [...page.text.matchAll(/<label for="g-[^"]+" class="truncate" title="[^"]*">([^<]+)<\/label>/g)].map((match) => match[1]);
    expect(names).toEqual(['All Staff', 'Berlin Office', 'Board of Directors', 'Customer Support', 'Engineering', 'Finance', 'London Office', 'Marketing', 'New Joiners 2026', 'People &amp; Culture', 'People Managers', 'Sales']);
    expect(page.text).toMatch(/All Staff<\/label><\/th>\s*<td>29<\/td>\s*<td>Security<\/td>/);
    expect(page.text).toMatch(/Sales<\/label><\/th>\s*<td>7<\/td>\s*<td>Microsoft 365<\/td>/);
    expect(page.text).toMatch(/London Office<\/label><\/th>\s*<td>\d+<\/td>\s*<td>Distribution<\/td>/);
    expect(page.text).toContain('<span id="selected-count">0</span> selected');
  });

  it('refuses foreign group ids, malformed and oversized bodies with a 4xx, storing nothing', async () => {
    await picker();
    const foreign = await admin.post(`${GROUPS}/preview`, { connection: connectionId, baseVersion: '0', group: stableId('another tenant’s group') });
    expect(foreign.status).toBe(422);
    expect(foreign.text).toContain('1 of the selected groups are not groups of this directory.');
    const malformed = await admin.post(`${GROUPS}/preview`, { connection: connectionId, baseVersion: 'x', group: 'not-a-guid' });
    expect(malformed.status).toBe(422);
    const tooMany = await admin.request(`${GROUPS}/preview`, {
      method: 'POST',
      form: Object.fromEntries([['_csrf', admin.csrf], ['connection', connectionId], ['baseVersion', '0'], ...Array.from({ length: 6_000 }, (_, index) => [`group${index}`, stableId(index)])]),
    });
    expect(tooMany.status).toBeGreaterThanOrEqual(400);
    expect(tooMany.status).toBeLessThan(500);
    // A form naming another org than the one the session works in never acts (nor switches).
    const otherOrg = await admin.post(`${GROUPS}/preview?org=${stack.people.globex}`, { connection: connectionId, baseVersion: '0', group: group('sales') });
    expect(otherOrg.status).toBe(409);
    expect(await savedGroupIds(stack.database.db, connectionId)).toEqual([]);
  });

  it('says when the tenant has more than 1,000 groups, listing the first 1,000 by name', async () => {
    const acme = await findOrgBySlug(stack.database.db, stack.people.acme);
    const big = await upsertConnection(stack.database.db, { orgId: acme!.id, tenantId: MANY_GROUPS.id, tenantName: 'Many Groups', verifiedDomains: [] });
    await admin.post(GROUPS, { connection: big });
    const page = await waitFor(async () => {
      const response = await admin.request(`${GROUPS}?connection=${big}`);
      return response.text.includes('Loading groups from Microsoft Entra…') ? undefined : response;
    }, 'the big picker to load', 60_000);
    expect(page.text).toContain('Your directory has more than 1,000 groups: the list shows the first 1,000 by name. Search to find the others.');
    expect(page.text.match(/name="group"/g)).toHaveLength(1_000);
    expect(page.text).toContain('Select all (1000)');
  });

  it('a member gets 403 and another org’s admin 404', async () => {
    const member = new Browser(stack.app.url);
    await member.signIn(stack.people.member.email);
    expect((await member.request(`${GROUPS}?connection=${connectionId}`)).status).toBe(403);
    const outsider = new Browser(stack.app.url);
    await outsider.signIn(stack.people.outsider.email);
    expect((await outsider.request(`${GROUPS}?connection=${connectionId}`)).status).toBe(404);
    expect((await outsider.request(`${PREVIEW}?connection=${connectionId}`)).status).toBe(404);
  });

  it('the pane’s actions refuse a member (403) and another org’s admin (404), and change nothing', async () => {
    const member = new Browser(stack.app.url);
    await member.signIn(stack.people.member.email);
    await member.request('/org/settings/integrations'); // a page, for a CSRF token
    const outsider = new Browser(stack.app.url);
    await outsider.signIn(stack.people.outsider.email);
    await outsider.request('/org/settings/integrations');
    for (const action of ['sync-now', 'confirm-removals', 'disconnect']) {
      expect((await member.post(`/org/settings/integrations/connections/${connectionId}/${action}`)).status).toBe(403);
      expect((await outsider.post(`/org/settings/integrations/connections/${connectionId}/${action}`)).status).toBe(404);
    }
    expect((await outsider.request(`/org/settings/integrations/connections/${connectionId}/users?q=a`)).status).toBe(404);
    const connection = await stack.database.db.selectFrom('entra_connections').select('status').where('id', '=', connectionId).executeTakeFirstOrThrow();
    expect(connection.status).toBe('connected');
  });

  it('search finds groups by name across the tenant', async () => {
    await picker();
    const results = await admin.request(`${GROUPS}/search?connection=${connectionId}&q=board`, { headers: { 'HX-Request': 'true' } });
    expect(results.status).toBe(200);
    expect(results.text).toContain('Board of Directors');
    expect(results.text).not.toContain('Sales');
  });

  it('Continue to preview → samples with "N of M members" and flags → Back keeps the selection → Save once → toast and counts', async () => {
    await picker();
    const preview = await admin.post(`${GROUPS}/preview`, { connection: connectionId, baseVersion: '0', group: group('sales') });
    expect(preview.status).toBe(303);
    expect(preview.location).toBe(`${PREVIEW}?connection=${connectionId}`);
    const page = await admin.request(preview.location!);
    expect(page.text).toContain('7 of 7 members');
    expect(page.text).toContain('<span class="badge warn">Guest</span>');
    // A disabled account is always marked Disabled; "shared mailbox" is a guess, said as one.
    expect(page.text).toMatch(/Sales Inbox<\/span>\s*<span class="muted small">sales@northwind.example<\/span>\s*<span class="badge danger">Disabled<\/span>\s*<span class="badge" title="[^"]+">Possibly a shared mailbox<\/span>/);
    // Flagged members first, and their counts for the group.
    const names = [...page.text.matchAll(/<span class="member-name">([^<]+)<\/span>/g)].map((match) => match[1]);
    expect(names.slice(0, 2).sort()).toEqual(['Alex Morgan (Contoso)', 'Sales Inbox']);
    expect(page.text).toContain('1 guest, 1 disabled, 1 possible shared mailbox');
    expect(page.text).toContain('1 group added: Sales');
    // What saving changes, counted: all 7 users of Sales are new to Hook.
    expect(page.text).toMatch(/Users added<\/dt><dd>7<\/dd>/);
    expect(page.text).toMatch(/Users removed<\/dt><dd>0<\/dd>/);
    expect(page.text).not.toContain('Preview was partial');

    const back = await admin.request(`${GROUPS}?connection=${connectionId}`);
    expect(back.text).toMatch(new RegExp(`value="${group('sales')}" id="g-${group('sales')}" checked`));

    await admin.request(preview.location!);
    const fields = saveFields((await admin.request(preview.location!)).text);
    const saved = await admin.post(`${PREVIEW}/save`, { connection: connectionId, ...fields });
    const doubleSubmit = await admin.post(`${PREVIEW}/save`, { connection: connectionId, ...fields });
    expect(saved.status).toBe(303);
    expect(doubleSubmit.status).toBe(303);
    expect(await savedGroupIds(stack.database.db, connectionId)).toEqual([group('sales')]);
    const connection = await stack.database.db.selectFrom('entra_connections').select('selection_version').where('id', '=', connectionId).executeTakeFirstOrThrow();
    expect(connection.selection_version).toBe(1);
    const integrations = await admin.request(saved.location!);
    expect(integrations.text).toContain('Group selection saved.');
    expect(integrations.text).toMatch(/<span class="badge ok">Connected<\/span><\/td>\s*<td data-label="Synced groups">1<\/td>/);
  });

  it('a hidden-membership group Hook may not read shows "Could not load members" with the advice, never "No user members"; same-named groups are told apart; an empty search clears', async () => {
    const tenant = stack.emulator.directory.findTenant(DEMO_TENANT_ID)!;
    // A second group called "Sales", and no Member.Read.Hidden: Graph would silently answer Board's members as none.
    tenant.createGroup({ id: stableId('groups-test', 'other-sales'), displayName: 'Sales', description: null, groupTypes: [], mailEnabled: false, securityEnabled: true, mail: null, mailNickname: null, visibility: null, members: [] });
    tenant.setPermissions(DEMO_APP_ID, ['Organization.Read.All', 'GroupMember.Read.All', 'User.Read.All']);
    stack.emulator.tokens.revokeTenant(DEMO_TENANT_ID);
    try {
      await admin.request(`/org/settings/integrations?expand=${connectionId}`);
      await stack.temporal.client.workflow.getHandle(`group-selection-${connectionId}`).terminate().catch(() => undefined);
      await picker();
      const empty = await admin.request(`${GROUPS}/search?connection=${connectionId}&q=`, { headers: { 'HX-Request': 'true' } });
      expect(empty.status).toBe(200);
      expect(empty.text).toBe('');
      const page = await admin.request(`${GROUPS}?connection=${connectionId}`);
      const baseVersion = /name="baseVersion" value="(\d+)"/.exec(page.text)![1]!;
      const form = new URLSearchParams({ _csrf: admin.csrf, connection: connectionId, baseVersion });
      for (const id of [group('board'), group('sales'), stableId('groups-test', 'other-sales')]) form.append('group', id);
      expect((await admin.request(`${GROUPS}/preview`, { body: form.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })).status).toBe(303);
      const preview = await admin.request(`${PREVIEW}?connection=${connectionId}`);
      const board = preview.text.slice(preview.text.indexOf('Board of Directors</h2>'));
      expect(board.slice(0, 800)).toContain('Could not load members');
      expect(board.slice(0, 800)).toContain('Loosening its visibility in Entra usually fixes it');
      expect(board.slice(0, 800)).not.toContain('No user members');
      expect(preview.text).toContain(`id ${group('sales').slice(0, 8)}`);
      expect(preview.text).toContain(`id ${stableId('groups-test', 'other-sales').slice(0, 8)}`);
    } finally {
      tenant.setPermissions(DEMO_APP_ID, HOOK_APP_ROLES);
      stack.emulator.tokens.revokeTenant(DEMO_TENANT_ID);
      tenant.deleteGroup(stableId('groups-test', 'other-sales'));
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import { groupSelectionWorkflowId } from '../../workflows/group-selection/messages.js';
import { directorySyncWorkflowId } from '../../workflows/sync/messages.js';
import { Browser, saveFields } from '../support/app.js';
import { startProductStack, type ProductStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const GROUPS = '/org/settings/integrations/microsoft-entra/groups';
const PREVIEW = '/org/settings/integrations/microsoft-entra/preview';
const group = (key: string) => stableId('northwind', 'group', key);

/**
 * "What saving changes" must be what the sync then does: each preview's users added, removed
 * and unchanged are compared with the cycle that follows the save and with Hook's users after it.
 */
describe('the preview’s counts are the sync’s', () => {
  let stack: ProductStack;
  let admin: Browser;
  let connectionId: string;
  const db = () => stack.database.db;

  beforeAll(async () => {
    stack = await startProductStack({ prefix: 'impact', tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }])] });
    const acme = await findOrgBySlug(db(), stack.people.acme);
    connectionId = await upsertConnection(db(), { orgId: acme!.id, tenantId: DEMO_TENANT_ID, tenantName: 'Northwind Outfitters', verifiedDomains: [] });
    admin = new Browser(stack.app.url);
    await admin.signIn(stack.people.admin.email);
  });
  afterAll(async () => {
    await stack.temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId)).terminate().catch(() => undefined);
    await stack.stop();
  });

  const activeUsers = async () => (await db().selectFrom('directory_users').select('user_id').where('connection_id', '=', connectionId).where('removed_at', 'is', null).execute()).map((row) => row.user_id);
  const finishedRuns = async () => Number((await db().selectFrom('sync_runs').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', connectionId).where('finished_at', 'is not', null).executeTakeFirstOrThrow()).n);

  /** Manage groups, as the pane's button does; the picker's selection version once it has loaded. */
  async function openPicker(): Promise<string> {
    await admin.request(`/org/settings/integrations?expand=${connectionId}`);
    await admin.post(GROUPS, { connection: connectionId });
    const picker = await waitFor(async () => {
      const page = await admin.request(`${GROUPS}?connection=${connectionId}`);
      return page.text.includes('Loading groups from Microsoft Entra…') ? undefined : page;
    }, 'the picker');
    return /name="baseVersion" value="(\d+)"/.exec(picker.text)![1]!;
  }

  /** Manage groups → pick → preview: the three numbers as the page shows them. Then Save, and the cycle it starts. */
  async function previewAndSave(keys: string[]) {
    const baseVersion = await openPicker();
    const form = new URLSearchParams({ _csrf: admin.csrf, connection: connectionId, baseVersion });
    for (const key of keys) form.append('group', group(key));
    expect((await admin.request(`${GROUPS}/preview`, { body: form.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })).status).toBe(303);
    const page = await admin.request(`${PREVIEW}?connection=${connectionId}`);
    const number = (label: string) => Number(new RegExp(`${label}</dt><dd>(\\d+)</dd>`).exec(page.text)?.[1]);
    const shown = { added: number('Users added'), removed: number('Users removed'), unchanged: number('Unchanged') };
    const before = await activeUsers();
    const runsBefore = await finishedRuns();
    expect((await admin.post(`${PREVIEW}/save`, { connection: connectionId, ...saveFields(page.text) })).status).toBe(303);
    await waitFor(async () => ((await finishedRuns()) > runsBefore ? true : undefined), 'the cycle after the save');
    const run = await db().selectFrom('sync_runs').selectAll().where('connection_id', '=', connectionId).orderBy('started_at', 'desc').limit(1).executeTakeFirstOrThrow();
    return { shown, run, before, after: await activeUsers() };
  }

  it('a first save: every user the preview counts as added is added', async () => {
    const { shown, run, after } = await previewAndSave(['sales', 'finance']);
    expect(shown).toEqual({ added: 10, removed: 0, unchanged: 0 });
    expect(run).toMatchObject({ status: 'ok', users_added: shown.added, users_removed: 0 });
    expect(after).toHaveLength(shown.added);
  });

  it('adding a group and unsyncing another in one save: the removal count leaves out members of the group added (72-shown-for-2 no more)', async () => {
    // Sales' 7 leave with Sales, except those All Staff brings back (its departments are nested): none leave.
    const { shown, run, before, after } = await previewAndSave(['finance', 'all-staff']);
    expect(shown.removed).toBe(run.users_removed);
    expect(shown.added).toBe(run.users_added);
    expect(shown.unchanged).toBe(before.filter((id) => after.includes(id)).length);
    expect(shown).toEqual({ added: 19, removed: 0, unchanged: 10 });
  });

  it('unsyncing: the preview’s removals are exactly the cycle’s, and the guard does not hold the admin’s own decision', async () => {
    const { shown, run, before, after } = await previewAndSave(['finance']);
    expect(run.status).toBe('ok');
    expect(shown).toEqual({ added: 0, removed: before.length - 3, unchanged: 3 });
    expect(run.users_removed).toBe(shown.removed);
    expect(after).toHaveLength(shown.unchanged);
  });

  it('two tabs: a Save from the tab whose preview is no longer the current one is refused, and shows the current selection', async () => {
    const baseVersion = await openPicker();
    const previewOf = async (key: string) => {
      await admin.post(`${GROUPS}/preview`, { connection: connectionId, baseVersion, group: group(key) });
      return (await admin.request(`${PREVIEW}?connection=${connectionId}`)).text;
    };
    const tabA = await previewOf('engineering'); // "0 users removed"… as tab A saw it
    await previewOf('board'); // tab B previews another selection in the same run
    const refused = await admin.post(`${PREVIEW}/save`, { connection: connectionId, ...saveFields(tabA) });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('Someone else changed this selection since you opened the preview');
    expect(refused.text).toContain('Board of Directors'); // the page shows the current preview
    expect(await db().selectFrom('synced_groups').select('group_id').where('connection_id', '=', connectionId).execute()).toEqual([{ group_id: group('finance') }]);
  });

  it('Disconnect runs in the sync workflow: it ends the selection run too, and Save or Sync now afterwards are refused and bring nothing back', async () => {
    // Tab A has a preview open; tab B disconnects.
    const baseVersion = await openPicker();
    await admin.post(`${GROUPS}/preview`, { connection: connectionId, baseVersion, group: group('sales') });
    const tabA = (await admin.request(`${PREVIEW}?connection=${connectionId}`)).text;

    await admin.request(`/org/settings/integrations?expand=${connectionId}`);
    expect((await admin.post(`/org/settings/integrations/connections/${connectionId}/disconnect`)).status).toBe(303);
    const sync = stack.temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId));
    expect((await sync.describe()).status.name).toBe('COMPLETED');
    const selection = stack.temporal.client.workflow.getHandle(groupSelectionWorkflowId(connectionId));
    await waitFor(async () => ((await selection.describe()).status.name === 'CANCELLED' ? true : undefined), 'the selection run to end');
    expect(await activeUsers()).toEqual([]);

    const saved = await admin.post(`${PREVIEW}/save`, { connection: connectionId, ...saveFields(tabA) });
    expect(saved.status).toBe(409);
    expect(saved.text).toContain('is disconnected');
    await admin.request(`/org/settings/integrations?expand=${connectionId}`);
    await admin.post(`/org/settings/integrations/connections/${connectionId}/sync-now`);
    const page = await admin.request(`/org/settings/integrations?expand=${connectionId}`);
    expect(page.text).toContain('Northwind Outfitters is disconnected');
    const row = await db().selectFrom('entra_connections').select('status').where('id', '=', connectionId).executeTakeFirstOrThrow();
    expect(row.status).toBe('disconnected');
    expect(await activeUsers()).toEqual([]);
    await expect(sync.describe().then((description) => description.status.name)).resolves.toBe('COMPLETED'); // Sync now started nothing
  });
});

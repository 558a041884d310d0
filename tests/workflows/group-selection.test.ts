import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { previewSamples, savedGroupIds } from '../../db/repositories/selection.js';
import { DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import { requestPreviewUpdate, saveSelectionUpdate, selectionStatusQuery } from '../../workflows/group-selection/messages.js';
import { groupSelectionWorkflow } from '../../workflows/group-selection/workflow.js';
import { directorySyncWorkflowId, syncStatusQuery } from '../../workflows/sync/messages.js';
import { startWorkerStack, type WorkerStack } from '../support/stack.js';
import { uniqueName } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';
import { signalsToFirstRun } from '../support/history.js';

const group = (key: string) => stableId('northwind', 'group', key);

describe('group selection workflow: load, preview within a budget, save once', () => {
  let stack: WorkerStack;
  let database: WorkerStack['database'];
  let temporal: WorkerStack['temporal'];
  let emulator: WorkerStack['emulator'];
  let orgId: string;
  let connectionId: string;

  beforeAll(async () => {
    stack = await startWorkerStack({ tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }])] });
    ({ database, temporal, emulator } = stack);
    orgId = await createOrgCommand(database.db, 'selection-org', 'Selection Org');
  });
  afterAll(() => stack.stop());
  beforeEach(async () => {
    Object.assign(emulator.faults, { latencyMs: 0, rules: [] });
    await database.db.deleteFrom('entra_connections').execute();
    connectionId = await upsertConnection(database.db, { orgId, tenantId: DEMO_TENANT_ID, tenantName: 'Northwind Outfitters', verifiedDomains: [] });
  });

  async function startSelection(previewBudgetMs = 20_000): Promise<WorkflowHandle<typeof groupSelectionWorkflow>> {
    const handle = await temporal.client.workflow.start(groupSelectionWorkflow, {
      workflowId: uniqueName('selection'),
      taskQueue: temporal.taskQueue,
      args: [{ orgId, connectionId, tenantId: DEMO_TENANT_ID, previewBudgetMs }, 0, await savedGroupIds(database.db, connectionId)],
    });
    await waitFor(async () => ((await handle.query(selectionStatusQuery)).stage === 'ready' ? true : undefined), 'groups to load');
    return handle;
  }

  it('loads the groups with type and user counts, previews samples, and saves exactly the chosen set once', async () => {
    const handle = await startSelection();
    const loaded = await database.db.selectFrom('entra_groups').select(['display_name', 'group_type', 'member_count']).where('group_id', '=', group('all-staff')).executeTakeFirstOrThrow();
    expect(loaded).toEqual({ display_name: 'All Staff', group_type: 'security', member_count: 29 });
    const chosen = [group('sales'), group('finance')];
    const preview = await handle.executeUpdate(requestPreviewUpdate, { args: [{ groupIds: chosen, baseVersion: 0 }] });
    expect(preview).toMatchObject({ groupIds: chosen, failedGroupIds: [], timedOutGroupIds: [], partial: false });
    const samples = await previewSamples(database.db, connectionId, preview.previewId);
    const sales = samples.find((sample) => sample.group_id === group('sales'))!;
    expect(sales).toMatchObject({ status: 'ok', total: 7 });
    expect(sales.members).toHaveLength(7);
    expect(sales.members.filter((member) => member.guest).map((member) => member.displayName)).toEqual(['Alex Morgan (Contoso)']);
    expect(sales.members.filter((member) => member.sharedMailbox).map((member) => member.displayName)).toEqual(['Sales Inbox']);

    const first = await save(handle, 'save-one-abc', true);
    const again = await save(handle, 'save-one-abc', true);
    expect(first).toEqual({ version: 1 });
    expect(again).toEqual({ version: 1 });
    expect((await savedGroupIds(database.db, connectionId)).sort()).toEqual([...chosen].sort());
    const sync = temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId));
    expect(await sync.query(syncStatusQuery)).toMatchObject({ connectionId, selectionVersion: 1 });
    expect(await signalsToFirstRun(temporal.client, directorySyncWorkflowId(connectionId), 'selectionChanged')).toEqual([[{ version: 1, retryGroupIds: [] }]]);
    expect((await handle.result()).stage).toBe('saved');
    await sync.terminate();
  });

  /** Saves the run's current preview as the page does: naming its preview id and base version. */
  async function save(handle: WorkflowHandle<typeof groupSelectionWorkflow>, saveId: string, withUpdateId = false) {
    const status = await handle.query(selectionStatusQuery);
    return handle.executeUpdate(saveSelectionUpdate, { args: [{ saveId, previewId: status.preview?.previewId, baseVersion: status.baseVersion }], ...(withUpdateId ? { updateId: saveId } : {}) });
  }

  it('marks a 403 group and a 404 group "could not load", and hands them to the sync for a retry', async () => {
    const handle = await startSelection();
    emulator.directory.findTenant(DEMO_TENANT_ID)!.deleteGroup(group('new-joiners'));
    emulator.directory.findTenant(DEMO_TENANT_ID)!.tenant.settings.hiddenMembership = 'forbidden';
    emulator.directory.findTenant(DEMO_TENANT_ID)!.setPermissions(DEMO_APP_ID, ['Organization.Read.All', 'GroupMember.Read.All', 'User.Read.All']);
    emulator.tokens.revokeTenant(DEMO_TENANT_ID);
    try {
      const preview = await handle.executeUpdate(requestPreviewUpdate, { args: [{ groupIds: [group('board'), group('new-joiners'), group('london')], baseVersion: 0 }] });
      expect(preview.failedGroupIds.sort()).toEqual([group('board'), group('new-joiners')].sort());
      expect(preview.partial).toBe(false);
      await save(handle, 'save-two-abc');
      const [[handedOver]] = (await signalsToFirstRun(temporal.client, directorySyncWorkflowId(connectionId), 'selectionChanged')) as [[{ retryGroupIds: string[] }]];
      expect(handedOver.retryGroupIds.sort()).toEqual([group('board'), group('new-joiners')].sort());
      await temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId)).terminate();
    } finally {
      emulator.directory.findTenant(DEMO_TENANT_ID)!.tenant.settings.hiddenMembership = 'silent';
      emulator.directory.findTenant(DEMO_TENANT_ID)!.setPermissions(DEMO_APP_ID, HOOK_APP_ROLES);
      emulator.directory.findTenant(DEMO_TENANT_ID)!.createGroup({ ...demoTenant().groups!.find((g) => g.id === group('new-joiners'))!, description: null, groupTypes: [], mail: null, mailNickname: null, visibility: null, members: [] });
    }
  });

  it('ends a preview at its deadline: the groups still sampling are cancelled and marked, and save is allowed', async () => {
    const handle = await startSelection(1_500);
    emulator.faults.latencyMs = 1_000;
    const groups = [group('sales'), group('finance'), group('marketing'), group('support'), group('people'), group('managers'), group('berlin'), group('london'), group('engineering'), group('all-staff'), group('board'), group('new-joiners')];
    const started = Date.now();
    const preview = await handle.executeUpdate(requestPreviewUpdate, { args: [{ groupIds: groups, baseVersion: 0 }] });
    expect(Date.now() - started).toBeLessThan(1_500 + 1_500);
    expect(preview.partial).toBe(true);
    expect(preview.timedOutGroupIds.length).toBeGreaterThan(0);
    expect(preview.timedOutGroupIds.length + preview.failedGroupIds.length).toBeLessThanOrEqual(groups.length);
    const sampled = await previewSamples(database.db, connectionId, preview.previewId);
    for (const sample of sampled) expect(preview.timedOutGroupIds).not.toContain(sample.group_id);
    emulator.faults.latencyMs = 0;
    expect(await save(handle, 'save-three-abc')).toEqual({ version: 1 });
    await temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId)).terminate();
  });

  it('keeps the selection back and forth, refuses unknown ids with a message, and refuses a stale save', async () => {
    const handle = await startSelection();
    await handle.executeUpdate(requestPreviewUpdate, { args: [{ groupIds: [group('sales')], baseVersion: 0 }] });
    await handle.executeUpdate(requestPreviewUpdate, { args: [{ groupIds: [group('sales'), group('finance')], baseVersion: 0 }] });
    expect((await handle.query(selectionStatusQuery)).selection).toEqual([group('sales'), group('finance')]);

    const foreign = await handle.executeUpdate(requestPreviewUpdate, { args: [{ groupIds: [stableId('someone else’s group')], baseVersion: 0 }] }).catch((error: unknown) => error);
    expect(foreign).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((foreign as WorkflowUpdateFailedError).cause?.message).toBe('1 of the selected groups are not groups of this directory.');
    expect((await handle.query(selectionStatusQuery)).selection).toEqual([group('sales'), group('finance')]);

    // Another admin saved meanwhile: this run's base version is behind.
    await database.db.updateTable('entra_connections').set({ selection_version: 5 }).where('id', '=', connectionId).execute();
    const stale = await save(handle, 'save-four-abc').catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(WorkflowUpdateFailedError);
    const reason = (stale as WorkflowUpdateFailedError).cause as (Error & { cause?: Error }) | undefined;
    expect(reason?.cause?.message ?? reason?.message).toMatch(/Another admin saved a different selection/);
    expect(await savedGroupIds(database.db, connectionId)).toEqual([]);
    await handle.terminate();
  });

  it('a save names the preview it saves: another tab’s or admin’s preview since then makes it stale, and nothing is saved', async () => {
    const handle = await startSelection();
    // Admin A previews "Sales"; admin B (or A's other tab) then previews "Board only" in the same run.
    const seenByA = await handle.executeUpdate(requestPreviewUpdate, { args: [{ groupIds: [group('sales')], baseVersion: 0 }] });
    await handle.executeUpdate(requestPreviewUpdate, { args: [{ groupIds: [group('board')], baseVersion: 0 }] });
    const stale = await handle.executeUpdate(saveSelectionUpdate, { args: [{ saveId: 'save-by-a-abc', previewId: seenByA.previewId, baseVersion: 0 }] }).catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((stale as WorkflowUpdateFailedError).cause as Error).message).toMatch(/Someone else changed this selection since you opened the preview/);
    expect(await savedGroupIds(database.db, connectionId)).toEqual([]);
    // A save that names nothing (an older page) is refused too.
    await expect(handle.executeUpdate(saveSelectionUpdate, { args: [{ saveId: 'save-old-page' }] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    // The current preview saves.
    expect(await save(handle, 'save-by-b-abc')).toEqual({ version: 1 });
    expect(await savedGroupIds(database.db, connectionId)).toEqual([group('board')]);
    await temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId)).terminate();
  });
});

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { DEMO_ADMIN_UPN, DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import { projectRoot } from '../../lib/paths.js';
import { requestPreviewUpdate, saveSelectionUpdate, selectionStatusQuery } from '../../workflows/group-selection/messages.js';
import { groupSelectionWorkflow } from '../../workflows/group-selection/workflow.js';
import { consentAnsweredSignal } from '../../workflows/onboarding/messages.js';
import { onboardingWorkflow } from '../../workflows/onboarding/workflow.js';
import { directorySyncWorkflowId, syncNowSignal } from '../../workflows/sync/messages.js';
import { signInForRun } from '../support/microsoft.js';
import { startWorkerStack, type WorkerStack } from '../support/stack.js';
import { uniqueName } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';
import { startReceiver } from '../support/receiver.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { createWebhookEndpoint } from '../../db/repositories/webhooks.js';
import { wakeDelivery } from '../../lib/webhook-launcher.js';
import { endpointChangedSignal } from '../../workflows/webhooks/messages.js';
import { testWebhookSecrets } from '../support/secrets.js';

/**
 * `npm run record-histories`: runs each workflow through a representative path on the dev server
 * and saves its history under tests/fixtures/histories/, which the replay test replays with
 * today's workflow code. Re-record only for a deliberate change, guarded by patched().
 */
const dir = path.join(projectRoot, 'tests', 'fixtures', 'histories');
const group = (key: string) => stableId('northwind', 'group', key);

describe('record workflow histories', () => {
  let stack: WorkerStack;
  let database: WorkerStack['database'];
  let temporal: WorkerStack['temporal'];

  beforeAll(async () => {
    stack = await startWorkerStack({ tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }])] });
    ({ database, temporal } = stack);
  });
  afterAll(() => stack.stop());
  // Append-only: a history already recorded is never overwritten (older code's histories must keep
  // replaying); a new path gets a new file, which the replay test then lists.
  const save = async (name: string, handle: WorkflowHandle) => {
    const file = path.join(dir, `${name}.json`);
    if (existsSync(file)) return;
    await writeFile(file, `${historyToJSON(await handle.fetchHistory())}\n`);
  };

  it('records onboarding, group selection, a full sync cycle and a delta cycle', async () => {
    const orgId = await createOrgCommand(database.db, 'record-org', 'Record Org');
    const onboarding = await temporal.client.workflow.start(onboardingWorkflow, { workflowId: uniqueName('onboarding'), taskQueue: temporal.taskQueue, args: [{ orgId, accountId: stableId('someone') }] });
    await signInForRun({ db: database.db, emulator: stack.emulator, orgId, workflowId: onboarding.workflowId, handle: onboarding, login: DEMO_ADMIN_UPN });
    await onboarding.signal(consentAnsweredSignal, { tenantId: DEMO_TENANT_ID });
    const { connectionId } = await onboarding.result();
    // (onboardingWorkflow-connected.json is the same path before tenant proof, recorded earlier.)
    await save('onboardingWorkflow-proven-connected', onboarding);

    const selection = await temporal.client.workflow.start(groupSelectionWorkflow, { workflowId: uniqueName('selection'), taskQueue: temporal.taskQueue, args: [{ orgId, connectionId: connectionId!, tenantId: DEMO_TENANT_ID }, 0, []] });
    await waitFor(async () => ((await selection.query(selectionStatusQuery)).stage === 'ready' ? true : undefined), 'groups');
    await selection.executeUpdate(requestPreviewUpdate, { args: [{ groupIds: [group('sales'), group('finance')], baseVersion: 0 }] });
    const previewed = await selection.query(selectionStatusQuery);
    await selection.executeUpdate(saveSelectionUpdate, { args: [{ saveId: 'record-save-1', previewId: previewed.preview?.previewId, baseVersion: previewed.baseVersion }] });
    await selection.result();
    await save('groupSelectionWorkflow-saved', selection);

    const sync = temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId!));
    const firstRun = (await sync.describe()).runId;
    await waitFor(async () => ((await sync.describe()).runId !== firstRun ? true : undefined), 'the first cycle to continue as new');
    await save('directorySyncWorkflow-first-cycle', temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId!), firstRun));
    // The second cycle reads only changes (a delta cycle).
    const secondRun = (await sync.describe()).runId;
    await sync.signal(syncNowSignal);
    await waitFor(async () => ((await sync.describe()).runId !== secondRun ? true : undefined), 'the delta cycle to continue as new');
    await save('directorySyncWorkflow-delta-cycle', temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId!), secondRun));
    await sync.terminate();
  });

  it('records a webhook endpoint delivering, paused, resumed and deleted', async () => {
    const orgId = await createOrgCommand(database.db, 'record-webhooks', 'Record Webhooks');
    const connectionId = await upsertConnection(database.db, { orgId, tenantId: DEMO_TENANT_ID, tenantName: 'Northwind Outfitters', verifiedDomains: [] });
    const receiver = await startReceiver();
    const { id: endpointId } = await createWebhookEndpoint(database.db, { orgId, url: receiver.url, eventTypes: [], createdBy: null }, testWebhookSecrets);
    const handle = await wakeDelivery(temporal.client, temporal.taskQueue, endpointId);
    await database.db.insertInto('directory_users').values({ connection_id: connectionId, user_id: stableId('record', 'user'), display_name: 'Recorded User' }).execute();
    await waitFor(() => Promise.resolve(receiver.acknowledged().length === 1 ? true : undefined), 'the delivery');
    for (const paused of [true, false]) {
      await database.db.updateTable('webhook_endpoints').set({ paused }).where('id', '=', endpointId).execute();
      await handle.signal(endpointChangedSignal);
    }
    await database.db.updateTable('webhook_endpoints').set({ deleted_at: new Date() }).where('id', '=', endpointId).execute();
    await handle.signal(endpointChangedSignal);
    await handle.result();
    await save('webhookDeliveryWorkflow-delivered-deleted', handle);
    await receiver.close();
  });
});

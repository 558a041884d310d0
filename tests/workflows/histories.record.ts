import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { projectRoot } from '../../lib/paths.js';
import { requestPreviewUpdate, saveSelectionUpdate, selectionStatusQuery } from '../../workflows/group-selection/messages.js';
import { groupSelectionWorkflow } from '../../workflows/group-selection/workflow.js';
import { consentAnsweredSignal } from '../../workflows/onboarding/messages.js';
import { onboardingWorkflow } from '../../workflows/onboarding/workflow.js';
import { directorySyncWorkflowId, syncNowSignal } from '../../workflows/sync/messages.js';
import { createTestWorker } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestEmulator } from '../support/emulator.js';
import { connectToTemporal, uniqueName } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

/**
 * `npm run record-histories`: runs each workflow through a representative path on the dev server
 * and saves its history under tests/fixtures/histories/, which the replay test replays with
 * today's workflow code. Re-record only for a deliberate change, guarded by patched().
 */
const dir = path.join(projectRoot, 'tests', 'fixtures', 'histories');
const group = (key: string) => stableId('northwind', 'group', key);

describe('record workflow histories', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof connectToTemporal>>;
  let emulator: RunningEmulator;
  let worker: Worker;
  let running: Promise<void>;
  beforeAll(async () => {
    [database, temporal, emulator] = await Promise.all([createTestDatabase(), connectToTemporal(), startTestEmulator({ tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }])] })]);
    worker = await createTestWorker({ db: database.db, nativeConnection: temporal.nativeConnection, client: temporal.client, taskQueue: temporal.taskQueue, emulator });
    running = worker.run();
  });
  afterAll(async () => {
    worker.shutdown();
    await running;
    await emulator.close();
    await temporal.close();
    await database.drop();
  });
  const save = async (name: string, handle: WorkflowHandle) => {
    await writeFile(path.join(dir, `${name}.json`), `${historyToJSON(await handle.fetchHistory())}\n`);
  };

  it('records onboarding, group selection and one sync cycle', async () => {
    const orgId = await createOrgCommand(database.db, 'record-org', 'Record Org');
    const onboarding = await temporal.client.workflow.start(onboardingWorkflow, { workflowId: uniqueName('onboarding'), taskQueue: temporal.taskQueue, args: [{ orgId, accountId: stableId('someone') }] });
    await onboarding.signal(consentAnsweredSignal, { tenantId: DEMO_TENANT_ID });
    const { connectionId } = await onboarding.result();
    await save('onboardingWorkflow-connected', onboarding);

    const selection = await temporal.client.workflow.start(groupSelectionWorkflow, { workflowId: uniqueName('selection'), taskQueue: temporal.taskQueue, args: [{ orgId, connectionId: connectionId!, tenantId: DEMO_TENANT_ID }, 0, []] });
    await waitFor(async () => ((await selection.query(selectionStatusQuery)).stage === 'ready' ? true : undefined), 'groups');
    await selection.executeUpdate(requestPreviewUpdate, { args: [{ groupIds: [group('sales'), group('finance')], baseVersion: 0 }] });
    await selection.executeUpdate(saveSelectionUpdate, { args: [{ saveId: 'record-save-1' }] });
    await selection.result();
    await save('groupSelectionWorkflow-saved', selection);

    const sync = temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId!));
    const firstRun = (await sync.describe()).runId;
    await waitFor(async () => ((await sync.describe()).runId !== firstRun ? true : undefined), 'the first cycle to continue as new');
    await save('directorySyncWorkflow-first-cycle', temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId!), firstRun));
    await sync.signal(syncNowSignal);
    await sync.terminate();
  });
});

import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { listConnections } from '../../db/repositories/connections.js';
import { DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { FailureType } from '../../workflows/failures.js';
import { consentAnsweredSignal, onboardingStatusQuery, type OnboardingInput } from '../../workflows/onboarding/messages.js';
import { onboardingWorkflow } from '../../workflows/onboarding/workflow.js';
import { createTestWorker } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestEmulator } from '../support/emulator.js';
import { connectToTemporal, uniqueName } from '../support/temporal.js';

const NO_ROLES_TENANT = { ...demoTenant([{ appId: DEMO_APP_ID, appRoles: [] }]), id: stableId('no roles'), displayName: 'Roleless Inc', verifiedDomains: [{ name: 'roleless.example', isDefault: true }] };

describe('onboarding workflow: consent, verification, connection', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof connectToTemporal>>;
  let emulator: RunningEmulator;
  let orgId: string;
  beforeAll(async () => {
    [database, temporal, emulator] = await Promise.all([
      createTestDatabase(),
      connectToTemporal(),
      startTestEmulator({ tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }]), NO_ROLES_TENANT] }),
    ]);
    orgId = await createOrgCommand(database.db, 'onboarding-org', 'Onboarding Org');
  });
  afterAll(async () => {
    await emulator.close();
    await temporal.close();
    await database.drop();
  });

  /** Runs one onboarding with a worker whose Entra settings may be spoiled, then drives it. */
  async function onboard(drive: (handle: WorkflowHandle<typeof onboardingWorkflow>) => Promise<void>, input: Partial<OnboardingInput> = {}, secret?: string) {
    const worker = await createTestWorker({
      db: database.db,
      nativeConnection: temporal.nativeConnection,
      client: temporal.client,
      taskQueue: temporal.taskQueue,
      emulator,
      entra: secret ? { clientSecret: secret } : {},
    });
    const start = () =>
      temporal.client.workflow.start(onboardingWorkflow, {
        workflowId: uniqueName('onboarding'),
        taskQueue: temporal.taskQueue,
        args: [{ orgId, accountId: stableId('someone'), ...input }],
      });
    return worker.runUntil(async () => {
      const handle = await start();
      await drive(handle);
      return handle.result();
    });
  }

  it('consent granted: verifies the tenant through MSAL and Graph and records the connection', async () => {
    const result = await onboard(async (handle) => {
      expect(await handle.query(onboardingStatusQuery)).toEqual({ stage: 'awaiting_consent' });
      await handle.signal(consentAnsweredSignal, { tenantId: DEMO_TENANT_ID });
    });
    expect(result).toMatchObject({ stage: 'connected', tenantId: DEMO_TENANT_ID, tenantName: 'Northwind Outfitters', connectionId: expect.any(String) });
    const rows = await listConnections(database.db, orgId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ tenant_id: DEMO_TENANT_ID, tenant_name: 'Northwind Outfitters', status: 'connected' });
    expect(rows[0]!.verified_domains.map((domain) => domain.name)).toEqual(['northwind.example', 'northwindoutfitters.onmicrosoft.com']);
  });

  it('reconnecting the same tenant updates its row and never duplicates it', async () => {
    emulator.directory.findTenant(DEMO_TENANT_ID)!.tenant.displayName = 'Northwind Outfitters Ltd';
    const result = await onboard((handle) => handle.signal(consentAnsweredSignal, { tenantId: DEMO_TENANT_ID }));
    const rows = await listConnections(database.db, orgId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(result.connectionId);
    expect(rows[0]!.tenant_name).toBe('Northwind Outfitters Ltd');
  });

  it('consent denied: fails as ConsentDenied with Microsoft’s description, connects nothing', async () => {
    const before = await listConnections(database.db, orgId);
    const result = await onboard((handle) =>
      handle.signal(consentAnsweredSignal, { error: 'access_denied', description: 'AADSTS65004: User declined to consent to access the app.' }),
    );
    expect(result).toEqual({
      stage: 'failed',
      failure: { type: FailureType.ConsentDenied, message: 'access_denied', detail: 'AADSTS65004: User declined to consent to access the app.' },
    });
    expect(await listConnections(database.db, orgId)).toEqual(before);
  });

  it('consent that never comes times out as ConsentTimedOut', async () => {
    const result = await onboard(() => Promise.resolve(), { consentTimeoutMs: 300 });
    expect(result).toMatchObject({ stage: 'failed', failure: { type: FailureType.ConsentTimedOut } });
  });

  it('token refused: a wrong secret fails as TokenRefused with its AADSTS code, without retrying', async () => {
    const since = emulator.log.lastSeq;
    const result = await onboard((handle) => handle.signal(consentAnsweredSignal, { tenantId: DEMO_TENANT_ID }), {}, 'a-wrong-secret-value');
    expect(result).toMatchObject({ stage: 'failed', failure: { type: FailureType.TokenRefused, detail: 'AADSTS7000215' } });
    const tokenCalls = emulator.log.since(since).filter((entry) => entry.host === 'login' && entry.path.endsWith('/token'));
    expect(tokenCalls.map((entry) => entry.status)).toEqual([401]);
  });

  it('Graph refused: consent without permissions fails as GraphRefused', async () => {
    const result = await onboard((handle) => handle.signal(consentAnsweredSignal, { tenantId: NO_ROLES_TENANT.id }));
    expect(result).toMatchObject({ stage: 'failed', tenantId: NO_ROLES_TENANT.id, failure: { type: FailureType.GraphRefused } });
    expect((await listConnections(database.db, orgId)).map((row) => row.tenant_id)).not.toContain(NO_ROLES_TENANT.id);
  });

  it('only the first consent answer counts (a replayed or late signal changes nothing)', async () => {
    const result = await onboard(async (handle) => {
      await handle.signal(consentAnsweredSignal, { error: 'access_denied', description: 'declined' });
      await handle.signal(consentAnsweredSignal, { tenantId: DEMO_TENANT_ID });
    });
    expect(result.stage).toBe('failed');
  });
});

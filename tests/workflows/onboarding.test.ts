import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { listConnections } from '../../db/repositories/connections.js';
import { createSignInRequest, holdAuthorizationCode } from '../../db/repositories/consent-requests.js';
import { DEMO_ADMIN_UPN, DEMO_APP_ID, DEMO_NON_ADMIN_UPN, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import { hashToken } from '../../web/session.js';
import { stableId } from '../../emulator/ids.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { FailureType } from '../../workflows/failures.js';
import { consentAnsweredSignal, onboardingStatusQuery, signedInUpdate, type OnboardingInput } from '../../workflows/onboarding/messages.js';
import { onboardingWorkflow } from '../../workflows/onboarding/workflow.js';
import { createTestWorker } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { REDIRECT_URI, startTestEmulator } from '../support/emulator.js';
import { signInForRun } from '../support/microsoft.js';
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

  const signIn = (handle: WorkflowHandle<typeof onboardingWorkflow>, login: string, spoil: { nonce?: string; verifier?: string } = {}) =>
    signInForRun({ db: database.db, emulator, orgId, workflowId: handle.workflowId, handle, login, spoil });

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
      expect(await handle.query(onboardingStatusQuery)).toEqual({ stage: 'signing_in' });
      // A consent answer before the sign-in proved a tenant counts for nothing.
      await handle.signal(consentAnsweredSignal, { tenantId: NO_ROLES_TENANT.id });
      expect((await signIn(handle, DEMO_ADMIN_UPN)).result).toEqual({ ok: true, tenantId: DEMO_TENANT_ID });
      expect(await handle.query(onboardingStatusQuery)).toEqual({ stage: 'awaiting_consent', tenantId: DEMO_TENANT_ID });
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
    const result = await onboard(async (handle) => {
      await signIn(handle, DEMO_ADMIN_UPN);
      await handle.signal(consentAnsweredSignal, { tenantId: DEMO_TENANT_ID });
    });
    const rows = await listConnections(database.db, orgId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(result.connectionId);
    expect(rows[0]!.tenant_name).toBe('Northwind Outfitters Ltd');
  });

  it('consent denied: fails as ConsentDenied with Microsoft’s description, connects nothing', async () => {
    const before = await listConnections(database.db, orgId);
    const result = await onboard(async (handle) => {
      await signIn(handle, DEMO_ADMIN_UPN);
      await handle.signal(consentAnsweredSignal, { error: 'access_denied', description: 'AADSTS65004: User declined to consent to access the app.' });
    });
    expect(result).toEqual({
      stage: 'failed',
      tenantId: DEMO_TENANT_ID,
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
    const result = await onboard((handle) => signIn(handle, DEMO_ADMIN_UPN).then(() => undefined), {}, 'a-wrong-secret-value');
    expect(result).toMatchObject({ stage: 'failed', failure: { type: FailureType.SignInRefused, detail: 'AADSTS7000215' } });
    const tokenCalls = emulator.log.since(since).filter((entry) => entry.host === 'login' && entry.path.endsWith('/token'));
    expect(tokenCalls.map((entry) => entry.status)).toEqual([401]);
  });

  it('Graph refused: consent without permissions fails as GraphRefused', async () => {
    const result = await onboard(async (handle) => {
      await signIn(handle, 'admin@roleless.example');
      await handle.signal(consentAnsweredSignal, { tenantId: NO_ROLES_TENANT.id });
    });
    expect(result).toMatchObject({ stage: 'failed', tenantId: NO_ROLES_TENANT.id, failure: { type: FailureType.GraphRefused } });
    expect((await listConnections(database.db, orgId)).map((row) => row.tenant_id)).not.toContain(NO_ROLES_TENANT.id);
  });

  it('only the first consent answer counts (a replayed or late signal changes nothing)', async () => {
    const result = await onboard(async (handle) => {
      await signIn(handle, DEMO_ADMIN_UPN);
      await handle.signal(consentAnsweredSignal, { error: 'access_denied', description: 'declined' });
      await handle.signal(consentAnsweredSignal, { tenantId: DEMO_TENANT_ID });
    });
    expect(result.stage).toBe('failed');
  });

  it('a user who holds no consent role is refused (NotTenantAdmin), and nothing is connected', async () => {
    const before = await listConnections(database.db, orgId);
    const result = await onboard(async (handle) => {
      const { result: answer } = await signIn(handle, DEMO_NON_ADMIN_UPN);
      expect(answer).toMatchObject({ ok: false, failure: { type: FailureType.NotTenantAdmin, detail: DEMO_NON_ADMIN_UPN } });
    });
    expect(result).toMatchObject({ stage: 'failed', failure: { type: FailureType.NotTenantAdmin } });
    expect(await listConnections(database.db, orgId)).toEqual(before);
  });

  it('a consent answer for another tenant than the proven one fails as TenantMismatch', async () => {
    const result = await onboard(async (handle) => {
      await signIn(handle, DEMO_ADMIN_UPN);
      await handle.signal(consentAnsweredSignal, { tenantId: NO_ROLES_TENANT.id });
    });
    expect(result).toMatchObject({ stage: 'failed', failure: { type: FailureType.TenantMismatch } });
  });

  it('a wrong PKCE verifier, a wrong nonce or a replayed code prove nothing', async () => {
    for (const spoil of [{ verifier: 'x'.repeat(43) }, { nonce: 'not-the-nonce-sent' }]) {
      const result = await onboard(async (handle) => {
        expect((await signIn(handle, DEMO_ADMIN_UPN, spoil)).result).toMatchObject({ ok: false, failure: { type: FailureType.SignInRefused } });
      });
      expect(result).toMatchObject({ stage: 'failed', failure: { type: FailureType.SignInRefused } });
    }
    // A code already redeemed, filed again under a new state for a new run.
    let used: { code: string | null; stateHash: string } | undefined;
    await onboard(async (handle) => {
      used = await signIn(handle, DEMO_ADMIN_UPN);
      await handle.signal(consentAnsweredSignal, { error: 'access_denied', description: 'stop here' });
    });
    const row = await database.db.selectFrom('consent_requests').selectAll().where('state_hash', '=', used!.stateHash).executeTakeFirstOrThrow();
    expect(row.code).toBeNull(); // redeemed: the code and the verifier are gone
    expect(row.code_verifier).toBeNull();
    const replayed = await onboard(async (handle) => {
      const state = randomBytes(32).toString('base64url');
      await createSignInRequest(database.db, { stateHash: hashToken(state), sessionHash: 's', orgId, workflowId: handle.workflowId, ttlMs: 60_000, redirectUri: REDIRECT_URI, nonce: 'n', codeVerifier: 'v'.repeat(43) });
      await holdAuthorizationCode(database.db, hashToken(state), used!.code!);
      expect(await handle.executeUpdate(signedInUpdate, { args: [{ stateHash: hashToken(state) }] })).toMatchObject({ ok: false, failure: { type: FailureType.SignInRefused, detail: 'AADSTS54005' } });
    });
    expect(replayed.stage).toBe('failed');
  });

  it('a run cannot redeem the sign-in of another run', async () => {
    let other: string | undefined;
    await onboard(async (handle) => {
      other = (await signIn(handle, DEMO_NON_ADMIN_UPN)).stateHash;
    });
    const result = await onboard(async (handle) => {
      expect(await handle.executeUpdate(signedInUpdate, { args: [{ stateHash: other! }] })).toMatchObject({ ok: false, failure: { type: FailureType.SignInRefused } });
    });
    expect(result.stage).toBe('failed');
  });
});

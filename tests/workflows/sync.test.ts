import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import type { TenantDirectory } from '../../emulator/directory.js';
import { stableId } from '../../emulator/ids.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { confirmRemovalsUpdate, syncStatusQuery, type DirectorySyncInput } from '../../workflows/sync/messages.js';
import { createTestWorker } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestEmulator } from '../support/emulator.js';
import { syncHarness, type SyncHarness } from '../support/sync.js';
import { connectToTemporal } from '../support/temporal.js';

const group = (key: string) => stableId('northwind', 'group', key);
const user = (name: string) => stableId('northwind', 'user', name);
const SALES = ['Sofia Rossi', 'Daniel Okafor', 'Marie Dubois', 'Lukas Schmidt', 'Grace Liu', 'Alex Morgan (Contoso)', 'Sales Inbox'];
const FINANCE = ['Ravi Patel', 'Eva Kowalska', 'Noah Fischer'];

describe('directory sync workflow: the user list follows Entra, and never loses anyone wrongly', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof connectToTemporal>>;
  let emulator: RunningEmulator;
  let worker: Worker;
  // The activities' clock: a test moves it past a grace period instead of sleeping through it.
  let clockOffsetMs = 0;
  let running: Promise<void>;
  let orgId: string;
  let connectionId: string;
  let tenant: TenantDirectory;
  let sync: SyncHarness;

  beforeAll(async () => {
    [database, temporal] = await Promise.all([createTestDatabase(), connectToTemporal()]);
    orgId = await createOrgCommand(database.db, 'sync-org', 'Sync Org');
  });
  afterAll(async () => {
    await temporal.close();
    await database.drop();
  });
  // A fresh tenant, connection and worker for every scenario: they change the directory.
  beforeEach(async () => {
    emulator = await startTestEmulator({ tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }])] });
    tenant = emulator.directory.findTenant(DEMO_TENANT_ID)!;
    await database.db.deleteFrom('entra_connections').execute();
    connectionId = await upsertConnection(database.db, { orgId, tenantId: DEMO_TENANT_ID, tenantName: 'Northwind Outfitters', verifiedDomains: [] });
    clockOffsetMs = 0;
    worker = await createTestWorker({ db: database.db, nativeConnection: temporal.nativeConnection, client: temporal.client, taskQueue: temporal.taskQueue, emulator, clock: () => new Date(Date.now() + clockOffsetMs) });
    running = worker.run();
    sync = syncHarness({ db: database.db, client: temporal.client, taskQueue: temporal.taskQueue, orgId, connectionId, tenantId: DEMO_TENANT_ID });
    return async () => {
      await sync.terminate();
      worker.shutdown();
      await running;
      await emulator.close();
    };
  });

  const syncGroups = (...keys: string[]) => sync.syncGroups(keys.map(group));
  const cycle = (options: Partial<DirectorySyncInput> = {}, signal: 'sync-now' | 'confirm' | 'reconnect' = 'sync-now') => sync.cycle(options, signal);
  const activeUsers = () => sync.activeUsers();
  const sorted = (...lists: string[][]) => [...new Set(lists.flat())].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  it('first sync: users of every synced group, deduplicated, with guest, shared-mailbox and disabled flags', async () => {
    await syncGroups('sales', 'finance', 'managers');
    const run = await cycle();
    expect(await activeUsers()).toEqual(sorted(SALES, FINANCE, ['Amelia Clarke', 'Jonas Weber', 'Priya Raman', 'Oskar Lindqvist', 'Farah Haddad', 'Chloé Martin', 'Olivia Brown']));
    expect(run).toMatchObject({ kind: 'full', status: 'ok', groups_ok: 3, groups_failed: 0, users_updated: 0, users_removed: 0 });
    expect(run.users_added).toBe(17);
    const flags = await database.db.selectFrom('directory_users').select(['display_name', 'is_guest', 'is_shared_mailbox', 'account_enabled', 'email_domain']).where('connection_id', '=', connectionId).where('display_name', 'in', ['Alex Morgan (Contoso)', 'Sales Inbox', 'Sofia Rossi']).orderBy('display_name').execute();
    expect(flags).toEqual([
      { display_name: 'Alex Morgan (Contoso)', is_guest: true, is_shared_mailbox: false, account_enabled: true, email_domain: 'contoso.example' },
      { display_name: 'Sales Inbox', is_guest: false, is_shared_mailbox: true, account_enabled: false, email_domain: 'northwind.example' },
      { display_name: 'Sofia Rossi', is_guest: false, is_shared_mailbox: false, account_enabled: true, email_domain: 'northwind.example' },
    ]);
    // A second cycle reads only changes (none): it adds, updates and removes nobody.
    expect(await cycle()).toMatchObject({ kind: 'delta', users_added: 0, users_updated: 0, users_removed: 0 });
  });

  it('follows members added and removed, renames, disabled and re-enabled accounts; a returning user is restored', async () => {
    await syncGroups('finance', 'sales');
    await cycle();
    tenant.addMembers(group('finance'), [user('Ben Carter')]);
    tenant.removeMembers(group('finance'), [user('Noah Fischer')]);
    tenant.updateGroup(group('finance'), { displayName: 'Finance & Treasury' });
    tenant.updateUser(user('Ravi Patel'), { accountEnabled: false });
    const run = await cycle();
    expect(await activeUsers()).toEqual(sorted(SALES, ['Ravi Patel', 'Eva Kowalska', 'Ben Carter']));
    expect(run).toMatchObject({ kind: 'delta', users_added: 1, users_updated: 1, users_removed: 1 });
    const noah = await database.db.selectFrom('directory_users').select(['removed_at', 'removed_reason']).where('user_id', '=', user('Noah Fischer')).executeTakeFirstOrThrow();
    expect(noah.removed_reason).toBe('In no synced group');
    expect((await database.db.selectFrom('synced_groups').select('display_name').where('group_id', '=', group('finance')).executeTakeFirstOrThrow()).display_name).toBe('Finance & Treasury');
    expect((await database.db.selectFrom('directory_users').select('account_enabled').where('user_id', '=', user('Ravi Patel')).executeTakeFirstOrThrow()).account_enabled).toBe(false);

    tenant.updateUser(user('Ravi Patel'), { accountEnabled: true });
    tenant.addMembers(group('finance'), [user('Noah Fischer')]);
    await cycle();
    expect(await activeUsers()).toEqual(sorted(SALES, FINANCE, ['Ben Carter']));
    expect((await database.db.selectFrom('directory_users').select('account_enabled').where('user_id', '=', user('Ravi Patel')).executeTakeFirstOrThrow()).account_enabled).toBe(true);
  });

  it('counts the users of nested groups once', async () => {
    await syncGroups('all-staff', 'engineering');
    await cycle();
    expect((await activeUsers()).length).toBe(29);
  });

  it('unsyncing a group removes only the members no other synced group has', async () => {
    await syncGroups('sales', 'managers', 'finance');
    await cycle();
    await syncGroups('sales', 'managers'); // Ravi Patel is also a manager; Eva and Noah are only in Finance
    const run = await cycle();
    expect(run.users_removed).toBe(2);
    const active = await activeUsers();
    expect(active).toContain('Ravi Patel');
    expect(active).not.toContain('Eva Kowalska');
    expect(active).not.toContain('Noah Fischer');
  });

  it('a deleted group keeps its members until the grace period has passed, then they go', async () => {
    await syncGroups('finance', 'sales', 'managers');
    await cycle({ missingGraceMs: 7 * 24 * 60 * 60 * 1000 });
    const before = await activeUsers();
    tenant.deleteGroup(group('finance'));
    const held = await cycle();
    expect(held).toMatchObject({ status: 'partial', groups_failed: 1, users_removed: 0 });
    expect(await activeUsers()).toEqual(before);
    expect((await database.db.selectFrom('synced_groups').select('last_error').where('group_id', '=', group('finance')).executeTakeFirstOrThrow()).last_error).toBe('The group no longer exists in Entra.');
    clockOffsetMs = 6 * 24 * 60 * 60 * 1000; // six days on: still within the grace period
    expect((await cycle()).users_removed).toBe(0);
    clockOffsetMs = 7 * 24 * 60 * 60 * 1000 + 1_000;
    expect((await cycle()).users_removed).toBe(2);
    expect(await activeUsers()).toEqual(before.filter((name) => name !== 'Eva Kowalska' && name !== 'Noah Fischer'));
  });

  it('the token endpoint throttles (429) and fails (503) with Retry-After: the cycle waits it out, and nobody is removed meanwhile', async () => {
    await syncGroups('finance', 'sales');
    await cycle();
    const before = await activeUsers();
    // Graph refuses the cached token, so a new one is needed just as the token endpoint is in trouble.
    emulator.tokens.revokeTenant(DEMO_TENANT_ID);
    emulator.faults.rules = [
      { path: 'oauth2/v2.0/token', status: 429, times: 1, retryAfterSeconds: 1 },
      { path: 'oauth2/v2.0/token', status: 503, times: 2, retryAfterSeconds: 1 },
    ];
    const run = await cycle();
    expect(emulator.faults.rules).toEqual([]); // every injected failure was met
    expect(run).toMatchObject({ status: 'ok', users_removed: 0, groups_failed: 0 });
    expect(await activeUsers()).toEqual(before);
    const refused = emulator.log.since(0).filter((entry) => entry.host === 'login' && entry.path.endsWith('/oauth2/v2.0/token') && entry.status >= 429);
    expect(refused.map((entry) => entry.status).sort()).toEqual([429, 503, 503]);
  });

  it('hidden membership without Member.Read.Hidden: the group fails, its members stay, nobody is removed', async () => {
    await syncGroups('board', 'finance');
    await cycle();
    expect(await activeUsers()).toEqual(sorted(FINANCE, ['Amelia Clarke', 'Jonas Weber']));
    tenant.setPermissions(DEMO_APP_ID, ['Organization.Read.All', 'GroupMember.Read.All', 'User.Read.All']);
    emulator.tokens.revokeTenant(DEMO_TENANT_ID);
    const run = await cycle();
    expect(run).toMatchObject({ status: 'partial', groups_failed: 1, users_removed: 0 });
    expect(await activeUsers()).toEqual(sorted(FINANCE, ['Amelia Clarke', 'Jonas Weber']));
  });

  it('a 429 storm slows the sync down but it finishes with the exact list', async () => {
    await syncGroups('sales', 'finance', 'engineering');
    emulator.faults.rate429 = 0.5;
    const run = await cycle();
    emulator.faults.rate429 = 0;
    expect(run.groups_ok).toBe(3);
    expect(await activeUsers()).toEqual(sorted(SALES, FINANCE, ['Priya Raman', 'Tomás Herrera', 'Lena Vogel', 'Kwame Mensah', 'Yuki Tanaka', 'Oskar Lindqvist', 'Hana Novak', 'Peter Grant']));
    const throttled = emulator.log.since().filter((entry) => entry.status === 429).length;
    expect(throttled).toBeGreaterThan(0);
  });

  it('consent revoked: "Needs reconnect", nobody removed; reconnected: syncing again', async () => {
    await syncGroups('finance', 'sales');
    await cycle();
    tenant.revokeConsent(DEMO_APP_ID, 'delete-service-principal');
    emulator.tokens.revokeTenant(DEMO_TENANT_ID);
    tenant.removeMembers(group('finance'), [user('Eva Kowalska')]);
    const run = await cycle();
    expect(run).toMatchObject({ users_removed: 0, groups_failed: 2 });
    const connection = await database.db.selectFrom('entra_connections').select(['status', 'sync_status']).where('id', '=', connectionId).executeTakeFirstOrThrow();
    expect(connection).toEqual({ status: 'needs_reconnect', sync_status: 'needs_reconnect' });
    expect(await activeUsers()).toEqual(sorted(SALES, FINANCE));
    expect((await sync.handle.query(syncStatusQuery)).needsReconnect).toBe(true);

    tenant.grantConsent(emulator.directory.application(DEMO_APP_ID)!);
    await cycle({}, 'reconnect');
    expect(await activeUsers()).toEqual(sorted(SALES, ['Ravi Patel', 'Noah Fischer']));
    expect((await database.db.selectFrom('entra_connections').select('status').where('id', '=', connectionId).executeTakeFirstOrThrow()).status).toBe('connected');
  });

  it('mass-deletion guard: a cycle that would remove more than 20 % removes nobody until an admin confirms', async () => {
    await syncGroups('all-staff');
    await cycle();
    tenant.removeMembers(group('all-staff'), [group('engineering'), group('sales')]);
    const held = await cycle();
    expect(held).toMatchObject({ status: 'awaiting_confirmation', users_removed: 0 });
    // Engineering's 8 users and Sales' 7 leave All Staff: 15 of 29 is over 20 %.
    expect(await database.db.selectFrom('entra_connections').select(['sync_status', 'pending_removals']).where('id', '=', connectionId).executeTakeFirstOrThrow()).toEqual({ sync_status: 'awaiting_confirmation', pending_removals: 15 });
    expect((await activeUsers()).length).toBe(29);
    const confirmed = await cycle({}, 'confirm');
    expect(confirmed.users_removed).toBe(15);
    expect((await activeUsers()).length).toBe(14);
  });

  it('the admin’s own unsync of a large group goes through the guard (it was seen and saved in the preview); Entra’s changes still stop at it', async () => {
    await syncGroups('all-staff', 'finance');
    await cycle();
    expect((await activeUsers()).length).toBe(29);
    // The admin unsyncs All Staff: 26 of 29 users leave, far over 20 %, by the admin's decision.
    await syncGroups('finance');
    const unsynced = await cycle();
    expect(unsynced).toMatchObject({ status: 'ok', users_removed: 26 });
    expect(await activeUsers()).toEqual(sorted(FINANCE));
    // The same share leaving because of a change in Entra is held.
    await syncGroups('all-staff');
    await cycle();
    tenant.removeMembers(group('all-staff'), [group('engineering'), group('sales')]);
    expect(await cycle()).toMatchObject({ status: 'awaiting_confirmation', users_removed: 0 });
    tenant.addMembers(group('all-staff'), [group('engineering'), group('sales')]);
  });

  it('confirming removals names the held set: nothing pending, or a set that changed since, is refused and arms nothing; only the confirmed set goes', async () => {
    const confirm = (runId: string, digest: string) => sync.handle.executeUpdate(confirmRemovalsUpdate, { args: [{ runId, digest }] });
    await syncGroups('all-staff');
    await cycle();
    // A stale confirmation with nothing pending: refused, and the next large removal is still held.
    await expect(confirm(randomUUID(), 'x'.repeat(43))).rejects.toThrow(WorkflowUpdateFailedError);
    tenant.removeMembers(group('all-staff'), [group('engineering'), group('sales')]);
    const heldFirst = await cycle();
    expect(heldFirst).toMatchObject({ status: 'awaiting_confirmation', users_removed: 0 });
    const first = await database.db.selectFrom('entra_connections').select(['pending_run_id', 'pending_digest', 'pending_removals']).where('id', '=', connectionId).executeTakeFirstOrThrow();
    expect(first.pending_removals).toBe(15);

    // Entra changes again before the admin clicks: the pane's set is no longer the one held.
    tenant.removeMembers(group('all-staff'), [group('marketing')]);
    await cycle();
    const second = await database.db.selectFrom('entra_connections').select(['pending_run_id', 'pending_digest', 'pending_removals']).where('id', '=', connectionId).executeTakeFirstOrThrow();
    expect(second.pending_removals).toBe(18);
    const stale = await confirm(first.pending_run_id!, first.pending_digest!).catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((stale as WorkflowUpdateFailedError).cause as Error).message).toContain('would now remove 18 users');
    expect((await activeUsers()).length).toBe(29);

    // The set shown now is confirmed; more leave before the cycle runs: only the 18 go, the others wait for their own confirmation.
    await confirm(second.pending_run_id!, second.pending_digest!);
    tenant.removeMembers(group('all-staff'), [group('finance')]);
    const confirmed = await cycle({}, 'sync-now');
    expect(confirmed.users_removed).toBe(18);
    expect((await activeUsers()).length).toBe(11);
    const after = await database.db.selectFrom('entra_connections').select(['sync_status', 'pending_removals']).where('id', '=', connectionId).executeTakeFirstOrThrow();
    expect(after).toEqual({ sync_status: 'awaiting_confirmation', pending_removals: 3 });
    tenant.addMembers(group('all-staff'), [group('engineering'), group('sales'), group('marketing'), group('finance')]);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_APP_ID, HOOK_APP_ROLES } from '../../emulator/demo.js';
import { generateTenant } from '../../emulator/generate.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { projectRoot } from '../../lib/paths.js';
import { syncNowSignal } from '../../workflows/sync/messages.js';
import { directorySyncWorkflow } from '../../workflows/sync/workflow.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestEmulator } from '../support/emulator.js';
import { connectToTemporal, uniqueName } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

const TENANT = generateTenant({
  seed: 77,
  displayName: 'Crashy Ltd',
  domain: 'crashy.example',
  users: 6_000,
  groups: 24,
  membersPerGroup: 1_500, // two pages of 999 per group, most of them
  nestedShare: 0,
  guestShare: 0.05,
  disabledShare: 0.02,
  sharedMailboxShare: 0.01,
  hiddenShare: 0,
  servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
});

describe('a worker killed in the middle of a sync cycle', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof connectToTemporal>>;
  let emulator: RunningEmulator;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    [database, temporal, emulator] = await Promise.all([createTestDatabase(), connectToTemporal(), startTestEmulator({ tenants: [TENANT] })]);
  });
  afterAll(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    await emulator.close();
    await temporal.close();
    await database.drop();
  });

  function startWorker(): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/worker-process.ts'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, DATABASE_URL: database.url, TEMPORAL_ADDRESS: inject('temporalAddress'), TASK_QUEUE: temporal.taskQueue, EMULATOR_URL: emulator.httpsUrl, EMULATOR_CA_FILE: emulator.caFile },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    workers.push(child);
    return new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('worker ready') && resolve(child));
      child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
  }

  it('converges to exactly what an uninterrupted run writes: no row lost, none duplicated', async () => {
    const orgId = await createOrgCommand(database.db, 'crash-org', 'Crash Org');
    const connectionId = await upsertConnection(database.db, { orgId, tenantId: TENANT.id, tenantName: 'Crashy Ltd', verifiedDomains: [] });
    await database.db.insertInto('synced_groups').values(TENANT.groups!.map((group) => ({ connection_id: connectionId, group_id: group.id, display_name: group.displayName }))).execute();
    emulator.faults.latencyMs = 150; // slow enough to kill the worker between pages

    const first = await startWorker();
    const handle = await temporal.client.workflow.start(directorySyncWorkflow, {
      workflowId: uniqueName('crash'),
      taskQueue: temporal.taskQueue,
      args: [{ orgId, connectionId, tenantId: TENANT.id, intervalMs: 3_600_000, heartbeatTimeoutMs: 3_000 }],
    });
    await handle.signal(syncNowSignal);
    // Mid-cycle: some pages staged, the run not committed.
    await waitFor(async () => {
      const staged = await database.db.selectFrom('sync_staged_members').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(staged.n) > 5_000 ? true : undefined;
    }, 'a few pages to be staged');
    first.kill('SIGKILL');
    expect(await database.db.selectFrom('sync_runs').select('finished_at').where('connection_id', '=', connectionId).executeTakeFirstOrThrow()).toEqual({ finished_at: null });

    await startWorker();
    await waitFor(async () => {
      const run = await database.db.selectFrom('sync_runs').select('finished_at').where('connection_id', '=', connectionId).executeTakeFirst();
      return run?.finished_at ? true : undefined;
    }, 'the cycle to finish on the second worker', 120_000);

    // What an uninterrupted run writes, straight from the tenant's data.
    const expectedMemberships = new Set(TENANT.groups!.flatMap((group) => (group.members as string[]).map((userId) => `${group.id}/${userId}`)));
    const expectedUsers = new Set(TENANT.groups!.flatMap((group) => group.members as string[]));
    const memberships = await database.db.selectFrom('group_memberships').select(['group_id', 'user_id']).where('connection_id', '=', connectionId).execute();
    const users = await database.db.selectFrom('directory_users').select('user_id').where('connection_id', '=', connectionId).where('removed_at', 'is', null).execute();
    expect(memberships.length).toBe(expectedMemberships.size);
    expect(new Set(memberships.map((row) => `${row.group_id}/${row.user_id}`))).toEqual(expectedMemberships);
    expect(users.length).toBe(expectedUsers.size);
    expect(new Set(users.map((row) => row.user_id))).toEqual(expectedUsers);
    const run = await database.db.selectFrom('sync_runs').selectAll().where('connection_id', '=', connectionId).executeTakeFirstOrThrow();
    expect(run).toMatchObject({ status: 'ok', groups_ok: 24, groups_failed: 0, users_added: expectedUsers.size, users_removed: 0 });
    expect(await database.db.selectFrom('sync_staged_members').selectAll().execute()).toEqual([]);
    await handle.terminate();
  }, 180_000);
});

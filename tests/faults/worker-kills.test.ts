import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_APP_ID, HOOK_APP_ROLES } from '../../emulator/demo.js';
import { generateTenant } from '../../emulator/generate.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { syncNowSignal } from '../../workflows/sync/messages.js';
import { directorySyncWorkflow } from '../../workflows/sync/workflow.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { compareWithDirectory } from '../support/expected-state.js';
import { faultFigure, FULL } from '../support/faults.js';
import { startTestEmulator } from '../support/emulator.js';
import { spawnWorker } from '../support/spawn-worker.js';
import { connectToTemporal, uniqueName } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

// Full: a 10,000-user tenant and 20 kills; short (inside npm test): 6,000 users and 3 kills.
const KILLS = FULL ? 20 : 3;
const TENANT = generateTenant({
  seed: 77,
  displayName: 'Crashy Ltd',
  domain: 'crashy.example',
  users: FULL ? 10_000 : 6_000,
  groups: FULL ? 40 : 24,
  membersPerGroup: 1_500, // two pages of 999 per group, most of them
  nestedShare: FULL ? 0.1 : 0,
  guestShare: 0.05,
  disabledShare: 0.02,
  sharedMailboxShare: 0.01,
  hiddenShare: 0,
  servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
});

describe('the worker killed with SIGKILL at random moments of a sync, restarted each time', () => {
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

  const startWorker = () => spawnWorker(workers, { database, taskQueue: temporal.taskQueue, emulator });

  it('converges to exactly what an uninterrupted run writes: no row lost, none duplicated', async () => {
    const tenant = emulator.directory.findTenant(TENANT.id)!;
    const orgId = await createOrgCommand(database.db, 'crash-org', 'Crash Org');
    const connectionId = await upsertConnection(database.db, { orgId, tenantId: TENANT.id, tenantName: 'Crashy Ltd', verifiedDomains: [] });
    const groupIds = TENANT.groups!.map((group) => group.id);
    await database.db.insertInto('synced_groups').values(TENANT.groups!.map((group) => ({ connection_id: connectionId, group_id: group.id, display_name: group.displayName }))).execute();
    // Slow enough to kill the worker between pages: a group's first page now comes with the group
    // itself, so at 150 ms a cycle could end before a kill's random moment.
    emulator.faults.latencyMs = 300;

    const handle = await temporal.client.workflow.start(directorySyncWorkflow, {
      workflowId: uniqueName('crash'),
      taskQueue: temporal.taskQueue,
      args: [{ orgId, connectionId, tenantId: TENANT.id, intervalMs: 3_600_000, heartbeatTimeoutMs: 3_000 }],
    });
    await handle.signal(syncNowSignal);
    const runs = () => database.db.selectFrom('sync_runs').select(['id', 'kind', 'finished_at']).where('connection_id', '=', connectionId).execute();

    // Kill at seeded random moments: while pages are read, between groups, during the commit.
    let seed = 2026;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    const moments: string[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const worker = await startWorker();
      if ((await runs()).every((run) => run.finished_at !== null)) {
        // The cycle finished before this kill: change the directory and start another full read.
        tenant.removeMembers(groupIds[kill % groupIds.length]!, tenant.groups.get(groupIds[kill % groupIds.length]!)!.members.slice(0, 5));
        await database.db.updateTable('entra_connections').set({ groups_delta_link: null }).where('id', '=', connectionId).execute();
        await handle.signal(syncNowSignal);
      }
      await waitFor(async () => ((await runs()).some((run) => run.finished_at === null) ? true : undefined), 'a cycle to be under way');
      // After a kill, the new worker gets the dead one's activities once their heartbeat times out (3 s).
      await new Promise((resolve) => setTimeout(resolve, 500 + random() * 6_000));
      const staged = await database.db.selectFrom('sync_staged_members').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const open = (await runs()).filter((run) => run.finished_at === null);
      moments.push(open.length === 0 ? 'idle' : `${open[0]!.kind} run, ${Number(staged.n)} rows staged`);
      worker.kill('SIGKILL');
    }

    await startWorker();
    await handle.signal(syncNowSignal); // one more cycle after the last kill, so it ends on a clean read
    const finishedBefore = (await runs()).filter((run) => run.finished_at !== null).length;
    await waitFor(async () => ((await runs()).filter((run) => run.finished_at !== null).length > finishedBefore && (await runs()).every((run) => run.finished_at !== null) ? true : undefined), 'the cycles to finish on the last worker', 240_000);

    const state = await compareWithDirectory(database.db, connectionId, tenant, groupIds);
    expect(state).toMatchObject({ lost: 0, extra: 0 });
    expect(state.users).toBe(state.expectedUsers);
    expect(await database.db.selectFrom('sync_staged_members').selectAll().execute()).toEqual([]);
    expect(await database.db.selectFrom('sync_staged_users').selectAll().execute()).toEqual([]);
    const killsDuringRuns = moments.filter((moment) => moment !== 'idle').length;
    expect(killsDuringRuns).toBeGreaterThanOrEqual(KILLS * 0.75);
    faultFigure('worker SIGKILL', { kills: KILLS, killsDuringRuns, users: state.users, memberships: state.memberships, rowsLost: state.lost, rowsExtra: state.extra, moments: moments.join('; ') });
    await handle.terminate();
  }, FULL ? 900_000 : 240_000);
});

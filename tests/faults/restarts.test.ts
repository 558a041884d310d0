import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { createDb, type Db } from '../../db/client.js';
import { migrateToLatest } from '../../db/migrate.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../dev/embedded-postgres.js';
import { findOrInstallTemporalCli } from '../../dev/temporal-cli.js';
import { startTemporalDevServer, type DevServerHandle } from '../../dev/temporal-dev-server.js';
import { DEMO_APP_ID, HOOK_APP_ROLES } from '../../emulator/demo.js';
import { generateTenant } from '../../emulator/generate.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { projectRoot, toolsDir } from '../../lib/paths.js';
import { syncNowSignal } from '../../workflows/sync/messages.js';
import { directorySyncWorkflow } from '../../workflows/sync/workflow.js';
import { startTestEmulator } from '../support/emulator.js';
import { compareWithDirectory } from '../support/expected-state.js';
import { faultFigure, FULL } from '../support/faults.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

const TENANT = generateTenant({
  seed: 91,
  displayName: 'Restart GmbH',
  domain: 'restart.example',
  users: 4_000,
  groups: 16,
  membersPerGroup: 1_200,
  nestedShare: 0.1,
  guestShare: 0.05,
  disabledShare: 0.02,
  sharedMailboxShare: 0.01,
  hiddenShare: 0,
  servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
});

/**
 * Temporal and PostgreSQL of their own (a file-backed dev server, an embedded PostgreSQL with
 * its data on disk), so the test can stop and start them in the middle of a sync. The worker
 * runs in its own process and is restarted whenever it exits, as a process supervisor would.
 */
describe('Temporal and PostgreSQL restarted in the middle of a sync', () => {
  let dir: string;
  let temporalCli: string;
  let temporalPort: number;
  let postgresPort: number;
  let temporal: DevServerHandle;
  let postgres: EmbeddedPostgresHandle;
  let db: Db;
  let emulator: RunningEmulator;
  let supervising = true;
  let workerStarts = 0;
  let worker: ChildProcess | undefined;

  const startTemporal = () => startTemporalDevServer({ binary: temporalCli, port: temporalPort, namespace: 'default', dbFilename: path.join(dir, 'temporal.db') });
  const startPostgres = () => startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: postgresPort, database: 'hook', persistent: true });

  function superviseWorker() {
    if (!supervising) return;
    workerStarts += 1;
    worker = spawn(process.execPath, ['--import', 'tsx', 'tests/support/worker-process.ts'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, DATABASE_URL: postgres.url, TEMPORAL_ADDRESS: temporal.address, TASK_QUEUE: 'restarts', EMULATOR_URL: emulator.httpsUrl, EMULATOR_CA_FILE: emulator.caFile },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    worker.once('exit', () => setTimeout(superviseWorker, 1_000));
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hook-restarts-'));
    temporalCli = await findOrInstallTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH || undefined, toolsDir, log: () => undefined });
    [temporalPort, postgresPort] = [await freePort(), await freePort()];
    [temporal, postgres, emulator] = await Promise.all([startTemporal(), startPostgres(), startTestEmulator({ tenants: [TENANT] })]);
    db = createDb(postgres.url);
    await migrateToLatest(db);
    superviseWorker();
  }, 180_000);
  afterAll(async () => {
    supervising = false;
    worker?.kill('SIGKILL');
    await db.destroy();
    await temporal.stop();
    await postgres.stop();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('each restart: the cycle finishes on its own with exactly what an uninterrupted run writes', async () => {
    const tenant = emulator.directory.findTenant(TENANT.id)!;
    const groupIds = TENANT.groups!.map((group) => group.id);
    const orgId = await createOrgCommand(db, 'restart-org', 'Restart Org');
    const connectionId = await upsertConnection(db, { orgId, tenantId: TENANT.id, tenantName: 'Restart GmbH', verifiedDomains: [] });
    await db.insertInto('synced_groups').values(groupIds.map((groupId) => ({ connection_id: connectionId, group_id: groupId, display_name: groupId }))).execute();
    emulator.faults.latencyMs = 100;
    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection });
    const handle = await client.workflow.start(directorySyncWorkflow, {
      workflowId: `restarts-${connectionId}`,
      taskQueue: 'restarts',
      args: [{ orgId, connectionId, tenantId: TENANT.id, intervalMs: 3_600_000, heartbeatTimeoutMs: 3_000 }],
    });
    const finishedRuns = async () => Number((await db.selectFrom('sync_runs').select((eb) => eb.fn.countAll<number>().as('n')).where('finished_at', 'is not', null).executeTakeFirstOrThrow()).n);
    const stagedRows = async () => Number((await db.selectFrom('sync_staged_members').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const figures: Record<string, number | string> = {};
    const rows = { lost: 0, extra: 0 };
    const compare = async () => {
      const state = await compareWithDirectory(db, connectionId, tenant, groupIds);
      rows.lost += state.lost;
      rows.extra += state.extra;
      return state;
    };

    const rounds = FULL ? 3 : 1;
    for (let round = 0; round < rounds; round++) {
      // Temporal goes away mid-read (a full read: the delta links are dropped first).
      await db.updateTable('entra_connections').set({ groups_delta_link: null }).execute();
      const before = await finishedRuns();
      await handle.signal(syncNowSignal);
      await waitFor(async () => ((await stagedRows()) > 3_000 ? true : undefined), 'some pages staged', 60_000);
      await temporal.stop();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      temporal = await startTemporal();
      await waitFor(async () => ((await finishedRuns()) > before ? true : undefined), 'the cycle to finish after Temporal restarted', 180_000);
      const afterTemporal = await compare();
      expect(afterTemporal).toMatchObject({ lost: 0, extra: 0 });

      // PostgreSQL goes away mid-read, after the directory changed.
      tenant.removeMembers(groupIds[round]!, tenant.groups.get(groupIds[round]!)!.members.slice(0, 20));
      await db.updateTable('entra_connections').set({ groups_delta_link: null }).execute();
      const beforePg = await finishedRuns();
      await handle.signal(syncNowSignal);
      await waitFor(async () => ((await stagedRows()) > 3_000 ? true : undefined), 'some pages staged', 60_000);
      await postgres.stop();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      postgres = await startPostgres();
      await waitFor(async () => ((await finishedRuns()) > beforePg ? true : undefined), 'the cycle to finish after PostgreSQL restarted', 180_000);
      const afterPostgres = await compare();
      expect(afterPostgres).toMatchObject({ lost: 0, extra: 0 });
      Object.assign(figures, { users: afterPostgres.users, memberships: afterPostgres.memberships });
    }
    expect(await db.selectFrom('sync_staged_members').selectAll().execute()).toEqual([]);
    faultFigure('Temporal and PostgreSQL restarts', { temporalRestarts: rounds, postgresRestarts: rounds, workerStarts, ...figures, rowsLost: rows.lost, rowsExtra: rows.extra });
    await handle.terminate();
    await connection.close();
  }, FULL ? 900_000 : 300_000);
});

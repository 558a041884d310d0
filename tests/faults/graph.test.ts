import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_APP_ID, HOOK_APP_ROLES } from '../../emulator/demo.js';
import type { TenantDirectory } from '../../emulator/directory.js';
import { generateTenant } from '../../emulator/generate.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { createTestWorker } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestEmulator } from '../support/emulator.js';
import { compareWithDirectory } from '../support/expected-state.js';
import { faultFigure, FULL } from '../support/faults.js';
import { syncHarness, type SyncHarness } from '../support/sync.js';
import { connectToTemporal } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';

const tenantInput = () =>
  generateTenant({
    seed: 31,
    displayName: 'Stormy Ltd',
    domain: 'stormy.example',
    users: 2_000,
    groups: 12,
    membersPerGroup: 400,
    nestedShare: 0.2,
    guestShare: 0.05,
    disabledShare: 0.02,
    sharedMailboxShare: 0.01,
    hiddenShare: 0,
    servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
  });

describe('Graph misbehaving: throttling storms, an outage, consent revoked mid-sync', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof connectToTemporal>>;
  let emulator: RunningEmulator;
  let tenant: TenantDirectory;
  let worker: Worker;
  let running: Promise<void>;
  let orgId: string;
  let sync: SyncHarness;
  let groupIds: string[];

  beforeAll(async () => {
    [database, temporal] = await Promise.all([createTestDatabase(), connectToTemporal()]);
    orgId = await createOrgCommand(database.db, 'faults-org', 'Faults Org');
  });
  afterAll(async () => {
    await temporal.close();
    await database.drop();
  });
  beforeEach(async () => {
    const input = tenantInput();
    emulator = await startTestEmulator({ tenants: [input] });
    emulator.faults.throttling = false;
    tenant = emulator.directory.findTenant(input.id)!;
    await database.db.deleteFrom('entra_connections').execute();
    const connectionId = await upsertConnection(database.db, { orgId, tenantId: tenant.id, tenantName: 'Stormy Ltd', verifiedDomains: [] });
    worker = await createTestWorker({ db: database.db, nativeConnection: temporal.nativeConnection, client: temporal.client, taskQueue: temporal.taskQueue, emulator });
    running = worker.run();
    sync = syncHarness({ db: database.db, client: temporal.client, taskQueue: temporal.taskQueue, orgId, connectionId, tenantId: tenant.id, input: { heartbeatTimeoutMs: 5_000 } });
    groupIds = [...tenant.groups.keys()].slice(0, 8);
    await sync.syncGroups(groupIds);
    return async () => {
      await sync.terminate();
      worker.shutdown();
      await running;
      await emulator.close();
    };
  });

  /** Some members leave and some join: what the next cycle must follow exactly. */
  function changeMembers(round: number) {
    const users = [...tenant.users.keys()];
    for (const [index, groupId] of groupIds.entries()) {
      const group = tenant.groups.get(groupId)!;
      tenant.removeMembers(groupId, group.members.filter((id) => tenant.users.has(id)).slice(0, 3 + round));
      tenant.addMembers(groupId, users.slice(index * 7 + round * 100, index * 7 + round * 100 + 5));
    }
  }

  it('429 to half the requests and 503 to a quarter: the sync finishes exactly, and no retry goes out before its Retry-After', async () => {
    Object.assign(emulator.faults, { rate429: 0.5, rate503: 0.25 });
    const cycles = FULL ? 4 : 2;
    const rows = { lost: 0, extra: 0 };
    for (let round = 0; round < cycles; round++) {
      if (round > 0) changeMembers(round);
      const run = await sync.cycle({}, 'sync-now');
      expect(run).toMatchObject({ status: 'ok', groups_failed: 0 });
      const state = await compareWithDirectory(database.db, sync.connectionId, tenant, groupIds);
      rows.lost += state.lost;
      rows.extra += state.extra;
    }
    expect(rows).toEqual({ lost: 0, extra: 0 });
    Object.assign(emulator.faults, { rate429: 0, rate503: 0 });

    // Every answer with a Retry-After, and the next request for the same URL.
    const log = emulator.log.since().filter((entry) => entry.host === 'graph' && entry.batchOf === undefined);
    const refused = log.filter((entry) => (entry.status === 429 || entry.status === 503) && entry.retryAfterSeconds !== undefined);
    const early = refused.filter((entry) => {
      const retry = log.find((next) => next.seq > entry.seq && next.method === entry.method && next.path === entry.path);
      return retry !== undefined && retry.t - entry.t < entry.retryAfterSeconds! * 1000;
    });
    // The storm was on: 75 % of the answers it could hit, by design. It cannot hit a `$batch`
    // (its items are rolled one by one) or a request refused before it, for its token (401).
    const stormable = log.filter((entry) => entry.method === 'GET' && entry.status !== 401);
    const answers = new Map<string, number>();
    for (const entry of log) answers.set(`${entry.method} ${entry.status}`, (answers.get(`${entry.method} ${entry.status}`) ?? 0) + 1);
    expect(refused.length / stormable.length, [...answers].map(([answer, count]) => `${answer}: ${count}`).join(', ')).toBeGreaterThan(0.5);
    expect(early).toEqual([]);
    faultFigure('graph storm', { cycles, requests: log.length, refused: refused.length, retriedEarly: early.length, rowsLost: rows.lost, rowsExtra: rows.extra });
  }, 300_000);

  it('Graph unreachable for a (compressed) outage: nobody removed meanwhile, and the sync recovers by itself', async () => {
    await sync.cycle({ intervalMs: 1_000 });
    const before = await compareWithDirectory(database.db, sync.connectionId, tenant, groupIds);
    const active = (await sync.activeUsers()).length;

    emulator.faults.graphUnreachable = true;
    changeMembers(1); // made in Entra during the outage: removals among them
    const outageMs = FULL ? 120_000 : 15_000;
    const outageStart = Date.now();
    let failedCycles = 0;
    while (Date.now() - outageStart < outageMs) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect((await sync.activeUsers()).length).toBe(active); // nobody removed while Graph is away
      failedCycles = Number((await database.db.selectFrom('sync_runs').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', sync.connectionId).where('status', '=', 'partial').executeTakeFirstOrThrow()).n);
    }
    emulator.faults.graphUnreachable = false;

    // No "Sync now": the scheduled cycles carry on and catch up.
    const after = await waitFor(async () => {
      const state = await compareWithDirectory(database.db, sync.connectionId, tenant, groupIds);
      return state.lost === 0 && state.extra === 0 ? state : undefined;
    }, 'the sync to recover by itself', 120_000);
    expect(before).toMatchObject({ lost: 0, extra: 0 });
    expect(after.users).toBeLessThan(active + groupIds.length * 5);
    faultFigure('graph outage', { outageSeconds: outageMs / 1000, failedCyclesDuringOutage: failedCycles, recoveredSecondsAfter: round((Date.now() - outageStart - outageMs) / 1000), rowsLost: after.lost, rowsExtra: after.extra });
  }, 400_000);

  it('consent revoked in the middle of a full read: nobody removed, and the status says why', async () => {
    emulator.faults.latencyMs = 100;
    const firstCycle = sync.cycle();
    await waitFor(async () => {
      const staged = await database.db.selectFrom('sync_run_groups').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(staged.n) >= 2 ? true : undefined;
    }, 'a few groups read');
    tenant.revokeConsent(DEMO_APP_ID, 'remove-permissions');
    emulator.tokens.revokeTenant(tenant.id);
    const run = await firstCycle;
    expect(run).toMatchObject({ users_removed: 0, status: 'partial' });
    expect(run.error).toBe('Microsoft refused Hook’s access to this tenant: reconnect it.');
    const connection = await database.db.selectFrom('entra_connections').select(['status', 'sync_status']).where('id', '=', sync.connectionId).executeTakeFirstOrThrow();
    expect(connection).toEqual({ status: 'needs_reconnect', sync_status: 'needs_reconnect' });

    // And on a connection that had synced before: its users stay.
    emulator.faults.latencyMs = 0;
    tenant.grantConsent(emulator.directory.application(DEMO_APP_ID)!);
    await sync.cycle({}, 'reconnect');
    const synced = (await sync.activeUsers()).length;
    tenant.revokeConsent(DEMO_APP_ID, 'delete-service-principal');
    emulator.tokens.revokeTenant(tenant.id);
    changeMembers(2);
    const refused = await sync.cycle();
    expect(refused).toMatchObject({ users_removed: 0 });
    expect((await sync.activeUsers()).length).toBe(synced);
    expect((await database.db.selectFrom('entra_connections').select('sync_status').where('id', '=', sync.connectionId).executeTakeFirstOrThrow()).sync_status).toBe('needs_reconnect');
    faultFigure('consent revoked', { runs: 2, usersRemoved: run.users_removed + refused.users_removed });
  }, 300_000);
});

const round = (value: number) => Math.round(value * 10) / 10;

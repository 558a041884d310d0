import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncActivities } from '../../activities/sync/index.js';
import { createEntraClients } from '../../activities/graph/clients.js';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { entraFor } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestEmulator } from '../support/emulator.js';
import type { GroupOutcome } from '../../workflows/sync/messages.js';

const group = (key: string) => stableId('northwind', 'group', key);
const DEPARTMENTS = ['engineering', 'sales', 'marketing', 'finance', 'people', 'support'].map(group);

/**
 * One batch activity as Temporal runs it on a retry: the heartbeat details of the attempt
 * before are handed back, against the real emulator and PostgreSQL.
 */
describe('reading a batch of groups', () => {
  let database: TestDatabase;
  let emulator: RunningEmulator;
  let activities: ReturnType<typeof createSyncActivities>;
  let connectionId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    emulator = await startTestEmulator({ tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }])] });
    const orgId = await createOrgCommand(database.db, 'batch-org', 'Batch Org');
    connectionId = await upsertConnection(database.db, { orgId, tenantId: DEMO_TENANT_ID, tenantName: 'Northwind Outfitters', verifiedDomains: [] });
    activities = createSyncActivities({ db: database.db, entra: createEntraClients(entraFor(emulator)) });
  });
  afterAll(async () => {
    await emulator.close();
    await database.drop();
  });

  const attempt = (runId: string, groupIds: string[], heartbeatDetails?: unknown) => {
    const environment = new MockActivityEnvironment({ heartbeatDetails, heartbeatTimeoutMs: 60_000 });
    let details: unknown = heartbeatDetails;
    environment.on('heartbeat', (sent: unknown) => (details = sent));
    const result: Promise<GroupOutcome[]> = environment.run((ids: string[]) => activities.syncGroups(connectionId, runId, DEMO_TENANT_ID, ids), groupIds);
    return { result, details: () => details };
  };

  it('a group that keeps failing fails the attempt after the others are read; the retry reads only it; past the retries its nested groups are still handed on', async () => {
    const runId = randomUUID();
    await database.db.insertInto('sync_runs').values({ id: runId, connection_id: connectionId, trigger: 'sync-now', kind: 'full' }).execute();
    // 500 is not retried inside the Graph client: each attempt sees it once.
    emulator.faults.rules = [{ path: `^/groups/${group('finance')}/members`, status: 500, times: 1_000 }];

    const first = attempt(runId, [group('all-staff'), group('finance'), group('managers')]);
    await expect(first.result).rejects.toThrow(/Graph unavailable: 500/);
    const progress = first.details() as { done: Record<string, { status: string; nestedGroupIds?: string[] }> };
    expect(Object.keys(progress.done).sort()).toEqual([group('all-staff'), group('managers')].sort());
    expect(progress.done[group('all-staff')]!.nestedGroupIds?.sort()).toEqual([...DEPARTMENTS].sort());

    const before = emulator.log.lastSeq;
    const retry = attempt(runId, [group('all-staff'), group('finance'), group('managers')], progress);
    await expect(retry.result).rejects.toThrow(/Graph unavailable: 500/);
    const paths = emulator.log.since(before).filter((entry) => entry.host === 'graph').map((entry) => entry.path);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.every((path) => path.startsWith(`/groups/${group('finance')}`))).toBe(true);

    const { failed, nested } = await activities.recordBatchFailure(runId, [group('all-staff'), group('finance'), group('managers')], 'Graph unavailable: 500');
    expect(failed).toEqual([group('finance')]);
    expect(nested.sort()).toEqual([...DEPARTMENTS].sort());
    const statuses = await database.db.selectFrom('sync_run_groups').select(['group_id', 'status']).where('run_id', '=', runId).orderBy('group_id').execute();
    expect(Object.fromEntries(statuses.map((row) => [row.group_id, row.status]))).toEqual({ [group('all-staff')]: 'ok', [group('finance')]: 'failed', [group('managers')]: 'ok' });
    emulator.faults.rules = [];
  });

  it('a user met in several groups is written once per process, and every group keeps its edges', async () => {
    const runId = randomUUID();
    await database.db.insertInto('sync_runs').values({ id: runId, connection_id: connectionId, trigger: 'sync-now', kind: 'full' }).execute();
    // The users each staging statement writes: the ids it sends (a page's users insert may sit
    // inside the statement that stages its edges).
    const written: string[] = [];
    type Raw = { kind: string; sqlFragments?: readonly string[]; parameters?: readonly unknown[] };
    const usersInserts = (node: Raw): Raw[] =>
      node.kind !== 'RawNode' ? [] : node.sqlFragments?.[0]?.includes('insert into sync_staged_users') ? [node] : (node.parameters ?? []).flatMap((parameter) => usersInserts(parameter as Raw));
    const counting = database.db.withPlugin({
      transformQuery: ({ node }) => {
        for (const insert of usersInserts(node)) {
          const values = (insert.parameters ?? []).map((parameter) => (parameter as { value?: unknown }).value);
          const rows = values.find((value) => typeof value === 'string' && value.startsWith('[')) as string; // the users, as JSON
          written.push(...(JSON.parse(rows) as Array<{ id: string }>).map((user) => user.id));
        }
        return node;
      },
      transformResult: ({ result }) => Promise.resolve(result),
    });
    const reading = createSyncActivities({ db: counting, entra: createEntraClients(entraFor(emulator)) });
    const read = (ids: string[]) => new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000 }).run((groupIds: string[]) => reading.syncGroups(connectionId, runId, DEMO_TENANT_ID, groupIds), ids);

    // One batch after another: two reads meeting the same user at the same moment may both write it.
    for (const groupId of [group('engineering'), group('managers'), group('sales')]) await read([groupId]);
    const edges = await database.db.selectFrom('sync_staged_members').select(['group_id', 'member_id']).where('run_id', '=', runId).where('member_type', '=', 'user').execute();
    const members = new Set(edges.map((edge) => edge.member_id));
    expect(edges.length).toBeGreaterThan(members.size); // someone is in two of these groups
    expect(written.sort()).toEqual([...members].sort());
    const staged = await database.db.selectFrom('sync_staged_users').select('user_id').where('run_id', '=', runId).execute();
    expect(staged.map((row) => row.user_id).sort()).toEqual([...members].sort());

    // Another process reading more of the same run writes what it meets; nothing is lost or doubled.
    const elsewhere = createSyncActivities({ db: database.db, entra: createEntraClients(entraFor(emulator)) });
    await new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000 }).run((groupIds: string[]) => elsewhere.syncGroups(connectionId, runId, DEMO_TENANT_ID, groupIds), [group('managers'), group('finance')]);
    const after = await database.db.selectFrom('sync_staged_members').select('member_id').distinct().where('run_id', '=', runId).where('member_type', '=', 'user').execute();
    const stagedAfter = await database.db.selectFrom('sync_staged_users').select(['user_id', 'display_name']).where('run_id', '=', runId).execute();
    expect(stagedAfter.map((row) => row.user_id).sort()).toEqual(after.map((row) => row.member_id).sort());
    expect(stagedAfter.every((row) => row.display_name !== null)).toBe(true);
  });

  it('a batch starts over a group an abandoned attempt began (a retry, a reset workflow): a member who left meanwhile is not kept', async () => {
    const runId = randomUUID();
    await database.db.insertInto('sync_runs').values({ id: runId, connection_id: connectionId, trigger: 'sync-now', kind: 'full' }).execute();
    const tenant = emulator.directory.findTenant(DEMO_TENANT_ID)!;
    const sales = group('sales');
    const stagedUsers = async () =>
      (await database.db.selectFrom('sync_staged_members').select('member_id').where('run_id', '=', runId).where('group_id', '=', sales).where('member_type', '=', 'user').execute()).map((row) => row.member_id).sort();
    // An attempt read the group, then died before its heartbeat said so.
    await attempt(runId, [sales]).result;
    const before = await stagedUsers();
    const leaver = before[0]!;
    tenant.removeMembers(sales, [leaver]);
    try {
      // Whatever the attempt number says: a workflow reset schedules the read again as attempt 1.
      for (const number of [2, 1]) {
        const again = new MockActivityEnvironment({ attempt: number, heartbeatTimeoutMs: 60_000 });
        await again.run((ids: string[]) => activities.syncGroups(connectionId, runId, DEMO_TENANT_ID, ids), [sales]);
        expect(await stagedUsers()).toEqual(before.filter((id) => id !== leaver));
        // The abandoned attempt's row back, for the next pass to find.
        await database.db.insertInto('sync_staged_members').values({ run_id: runId, group_id: sales, member_id: leaver, member_type: 'user', removed: false }).execute();
      }
    } finally {
      tenant.addMembers(sales, [leaver]);
    }
  });

  it('a group Graph does not find is reported and the batch goes on: a synced one is missing, a nested one (just listed by its parent) not yet visible', async () => {
    const runId = randomUUID();
    await database.db.insertInto('sync_runs').values({ id: runId, connection_id: connectionId, trigger: 'sync-now', kind: 'full' }).execute();
    const gone = stableId('northwind', 'group', 'never-existed');
    const lagging = stableId('northwind', 'group', 'listed-but-not-yet-visible');
    await database.db.insertInto('synced_groups').values({ connection_id: connectionId, group_id: gone, display_name: 'Gone' }).execute();
    const outcomes = await attempt(runId, [gone, lagging, group('sales')]).result;
    await database.db.deleteFrom('synced_groups').where('connection_id', '=', connectionId).execute();
    expect(outcomes.map((outcome) => [outcome.groupId, outcome.status])).toEqual([
      [gone, 'missing'],
      [lagging, 'failed'],
      [group('sales'), 'ok'],
    ]);
    expect(outcomes[1]!.error).toMatch(/not visible in Microsoft Graph yet/);
    const staged = await database.db.selectFrom('sync_staged_members').select((eb) => eb.fn.countAll<string>().as('n')).where('run_id', '=', runId).where('group_id', '=', group('sales')).executeTakeFirstOrThrow();
    expect(Number(staged.n)).toBe(7);
  });
});

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { writeEventsOfOneOrg } from '../../db/repositories/events.js';
import { loadConfig, workerTuning } from '../../lib/config.js';
import { MAX_REQUESTS_IN_FLIGHT } from '../../activities/graph/pacing.js';
import { READS_PER_BATCH } from '../../activities/sync/read-full.js';
import { REQUESTS_PER_READ } from '../../activities/sync/read-group.js';
import { generateTenant, HUGE_TENANT, LARGE_TENANT } from '../../emulator/generate.js';
import { BUDGET_PER_10S } from '../../emulator/throttle.js';
import { BATCHES_IN_FLIGHT } from '../../workflows/sync/activities.js';
import type { Benchmark } from '../figures.js';
import { startWorkerProcess } from '../../tests/support/start-worker-process.js';
import { graphPage, type GraphPage } from '../support/graph-page.js';
import { appToken } from '../../tests/support/emulator.js';
import { cores, sampleCpu, type CpuSpent } from '../support/cpu-sampler.js';
import { startBenchProduct, type BenchProduct } from '../support/product.js';
import { graphCost, reportPhases, round, syncedConnection } from '../support/synced-connection.js';

/** Real Graph's pace, as the issue that asked for this run sets it: per request, more per $batch item, and jitter. */
const REAL_LATENCY = { latencyMs: 100, latencyPerBatchItemMs: 20, latencyJitterMs: 20 };

const SELECT = 'id,displayName,mail,userPrincipalName,userType,accountEnabled,creationType';

/**
 * The full first sync: of a 300,000-user tenant first (time and the worker's memory), then of
 * the 100,000-user / 1,000-group tenant (emulator without latency or throttling) against its CPU
 * floor, the emulator serving the same pages alone plus PostgreSQL loading the same rows alone, and
 * against its contract floor, the same rows written alone where the product keeps them (with the
 * indexes, triggers and change events it promises); then the same sync at real Graph latency under
 * the real budget, against its latency floor.
 */
export const syncBenchmark: Benchmark = {
  name: 'sync',
  description: 'full first sync of 100,000 users in 1,000 groups, a second sync with no change, the first again at real Graph latency, and a first sync of 300,000 users in 3,000 groups',
  run: async (report) => {
    let hugeSeconds = 0;
    // First, three times the tenant in the same shape: the time (linear is three times the
    // 100,000-user sync's) and the memory of a worker in a process of its own (the peak resident
    // set the kernel kept for it, VmHWM), which runs this sync alone.
    const huge = tenantGroups(HUGE_TENANT);
    const hugeProduct = await startBenchProduct(['--generate', 'huge']);
    try {
      await hugeProduct.emulator.control('/faults', 'PATCH', { latencyMs: 0, throttling: false });
      const { result: first, peak } = await withWorkerProcess(hugeProduct, 'bench-huge', async (queue, cpu) => {
        const connection = await syncedConnection(hugeProduct, huge, {}, queue);
        const cycle = await cycleReportingWal(hugeProduct, connection, '300,000 users', report, cpu);
        await connection.handle.terminate();
        return cycle;
      });
      hugeSeconds = first.seconds;
      report({ figure: '300,000 users in 3,000 groups: full first sync', value: round(first.seconds), unit: 's', goal: null });
      reportPhases(report, '300,000 users', first);
      report({ figure: '300,000 users: users added', value: first.run.users_added, unit: 'users', goal: null });
      report({ figure: '300,000 users: peak memory of the worker process (VmHWM)', value: peak, unit: 'MiB', goal: '<= 1024' });
    } finally {
      await hugeProduct.stop();
    }

    const tenant = generateTenant(LARGE_TENANT);
    const product = await startBenchProduct(['--generate', 'large']);
    try {
      await product.emulator.control('/faults', 'PATCH', { latencyMs: 0, throttling: false });
      // Synced by a worker in a process of its own, as the 300,000 users were: the ratio between
      // the two compares the same set-up, and the memory is the worker's alone.
      const { result: large, peak } = await withWorkerProcess(product, 'bench-large', async (queue, cpu) => {
        const connection = await syncedConnection(product, tenant, {}, queue);
        const cycle = await cycleReportingWal(product, connection, 'full first sync', report, cpu);
        const again = await connection.cycle();
        await connection.handle.terminate();
        return { first: cycle, second: again, connectionId: connection.connectionId };
      });
      const { first, second, connectionId } = large;
      report({ figure: 'full first sync', value: round(first.seconds), unit: 's', goal: '<= 60' });
      reportPhases(report, 'full first sync', first);
      report({ figure: '300,000 users: time ÷ this sync (linear is 3)', value: round(hugeSeconds / first.seconds), unit: 'ratio', goal: '<= 3.3' });
      report({ figure: 'users added by the first sync', value: first.run.users_added, unit: 'users', goal: null });
      report({ figure: 'peak memory of the worker process (VmHWM)', value: peak, unit: 'MiB', goal: '<= 1024' });
      report({ figure: 'Graph requests, first sync', value: first.requests.length, unit: 'requests', goal: null });
      report({ figure: 'history events in the first run', value: first.actions.events, unit: 'events', goal: null });
      report({ figure: 'second sync, no change (a delta cycle)', value: round(second.seconds), unit: 's', goal: null });
      report({ figure: 'users added, updated, removed by the second sync', value: second.run.users_added + second.run.users_updated + second.run.users_removed, unit: 'users', goal: '0' });

      // The floor: the same pages served alone, and the same rows loaded alone.
      const floorPages = await servePagesAlone(product.emulator.httpsUrl, tenant.id, tenant.groups!.map((group) => group.id));
      const floorLoad = await loadRowsAlone(product.db, tenant);
      report({ figure: 'floor: emulator serving the same pages alone (8 in flight)', value: round(floorPages), unit: 's', goal: null });
      report({ figure: 'floor: PostgreSQL loading the same users and memberships alone', value: round(floorLoad), unit: 's', goal: null });
      report({ figure: 'full sync ÷ floor', value: round(first.seconds / (floorPages + floorLoad)), unit: 'ratio', goal: '<= 1.5' });
      reportCpuLimit(report, 'full first sync', first.cpu, floorPages + floorLoad, 1.5);
      // What the product's contract costs PostgreSQL: the same rows written, alone, into the tables
      // they live in, with their indexes, triggers and change events (docs/operators.md, issue 18).
      const contractLoad = await writeRowsAsCommitted(product.db, connectionId);
      report({ figure: "contract floor: PostgreSQL writing the same rows alone into the product's tables (indexes, triggers, change events)", value: round(contractLoad), unit: 's', goal: null });
      report({ figure: 'full sync ÷ (emulator alone + contract floor)', value: round(first.seconds / (floorPages + contractLoad)), unit: 'ratio', goal: null });
      // The same without the change events (their triggers off): what is left to a commit if a
      // first sync were announced by one event instead of one per user and membership.
      const withoutEvents = await writeRowsAsCommitted(product.db, connectionId, { events: false });
      report({ figure: 'contract floor without the change events (a first sync announced by one event)', value: round(withoutEvents), unit: 's', goal: null });

      // The same first sync as real Graph answers it: latency on every round trip, and the
      // tenant's resource-unit budget enforced (from a full bucket).
      await product.emulator.control('/faults', 'PATCH', { ...REAL_LATENCY, throttling: true });
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const { result: real } = await withWorkerProcess(product, 'bench-paced', async (queue, cpu) => {
        const paced = await syncedConnection(product, tenant, {}, queue);
        const cycle = await cycleReportingWal(product, paced, 'with latency', report, cpu);
        await paced.handle.terminate();
        return cycle;
      });
      await product.emulator.control('/faults', 'PATCH', { latencyMs: 0, latencyPerBatchItemMs: 0, latencyJitterMs: 0, throttling: false });
      const cost = graphCost(real.requests, real.items);
      const inFlight = Math.min(BATCHES_IN_FLIGHT * READS_PER_BATCH * REQUESTS_PER_READ, MAX_REQUESTS_IN_FLIGHT);
      // The floor: the round trips that were needed (a 429 was not), each at its mean latency, so
      // many at a time; or the resource units the bucket could not cover, at the rate it refills.
      const itemsOf = (seq: number) => real.items.filter((item) => item.batchOf === seq).length;
      const waiting = real.requests.filter((entry) => entry.status !== 429).reduce((sum, entry) => sum + REAL_LATENCY.latencyMs + REAL_LATENCY.latencyPerBatchItemMs * itemsOf(entry.seq), 0) / 1000 / inFlight;
      const budget = Math.max(0, cost.resourceUnits - BUDGET_PER_10S.L) / (BUDGET_PER_10S.L / 10);
      const floor = Math.max(waiting, budget);
      report({ figure: 'with 100 ms latency (+20 ms per $batch item, ±20 ms): full first sync', value: round(real.seconds), unit: 's', goal: '<= 10' });
      reportPhases(report, 'with latency', real);
      report({ figure: `with latency: floor, max(round trips × latency ÷ ${inFlight} in flight = ${round(waiting)} s, budget ${round(budget)} s)`, value: round(floor), unit: 's', goal: null });
      report({ figure: 'with latency: time ÷ floor', value: round(real.seconds / floor), unit: 'ratio', goal: '<= 1.3' });
      reportCpuLimit(report, 'with latency', real.cpu, floor, 1.3);
      report({ figure: 'with latency: round trips', value: cost.roundTrips, unit: 'round trips', goal: null });
      report({ figure: 'with latency: requests ($batch items one by one)', value: cost.requests, unit: 'requests', goal: null });
      report({ figure: 'with latency: resource units', value: cost.resourceUnits, unit: 'RU', goal: null });
      report({ figure: 'with latency: 429 answers', value: cost.throttled, unit: 'requests', goal: null });
    } finally {
      await product.stop();
    }
  },
};

/**
 * The product's worker in a process of its own on `queue`, for `work`; then its peak resident set
 * (VmHWM, in MiB), which the kernel kept for it alone.
 */
async function withWorkerProcess<T>(product: BenchProduct, queue: string, work: (queue: string, cpu: CpuSamples) => Promise<T>): Promise<{ result: T; peak: number }> {
  const worker = startWorkerProcess({
    databaseUrl: product.databaseUrl,
    temporalAddress: product.temporalAddress,
    taskQueue: queue,
    emulatorUrl: product.emulator.httpsUrl,
    emulatorCaFile: product.emulator.caFile,
    maxConcurrentActivities: workerTuning(loadConfig({})).maxConcurrentActivities,
  });
  try {
    await worker.ready;
    const cpu = sampleCpu(worker.child.pid!);
    const result = await work(queue, cpu).finally(() => cpu.stop());
    const peak = Number(/VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${worker.child.pid}/status`, 'utf8'))?.[1]);
    return { result, peak: Math.round(peak / 1024) };
  } finally {
    worker.child.kill('SIGKILL');
  }
}

type CpuSamples = ReturnType<typeof sampleCpu>;
type Report = Parameters<Benchmark['run']>[0];

/**
 * One cycle of `connection`, reporting the write-ahead log PostgreSQL wrote and the checkpoints it
 * made meanwhile, and the CPU each process spent in the read and in the commit.
 */
async function cycleReportingWal(product: BenchProduct, connection: Awaited<ReturnType<typeof syncedConnection>>, label: string, report: Report, cpu: CpuSamples) {
  const before = await writeAheadLog(product.db);
  const cycle = await connection.cycle();
  const ended = Date.now();
  const after = await writeAheadLog(product.db);
  report({ figure: `${label}: write-ahead log written`, value: Math.round((after.bytes - before.bytes) / 1024 / 1024), unit: 'MiB', goal: null });
  report({ figure: `${label}: checkpoints during the sync`, value: after.checkpoints - before.checkpoints, unit: 'checkpoints', goal: null });
  const commitStarted = cycle.run.finished_at!.getTime();
  const read = cpu.between(cycle.run.started_at.getTime(), commitStarted);
  const commit = cpu.between(commitStarted, ended);
  report({ figure: `${label}: CPU seconds in the read, all processes (${byOwner(read)})`, value: round(read.machine), unit: 'CPU s', goal: null });
  report({ figure: `${label}: CPU seconds in the commit, all processes (${byOwner(commit)})`, value: round(commit.machine), unit: 'CPU s', goal: null });
  return { ...cycle, cpu: { read, commit } };
}

/**
 * The shortest time the CPU a sync spent allows on this machine, however it were scheduled: its
 * read's CPU spread over every core, then the commit's backend on one (a transaction runs in one
 * backend, and PostgreSQL writes no table in parallel); against `floor`. Above the goal, no
 * scheduling meets it: only spending less CPU can.
 */
function reportCpuLimit(report: Report, label: string, cpu: { read: CpuSpent; commit: CpuSpent }, floor: number, goal: number): void {
  const limit = cpu.read.machine / cores + cpu.commit.busiestBackend;
  report({ figure: `${label}: shortest time its CPU allows (read's ${round(cpu.read.machine)} CPU s ÷ ${cores} cores + the commit's backend, ${round(cpu.commit.busiestBackend)} s on one = ${round(limit)} s) ÷ floor`, value: round(limit / floor), unit: 'ratio', goal: `<= ${goal}` });
}

const byOwner = (spent: CpuSpent) => `worker ${round(spent.worker)}, PostgreSQL ${round(spent.postgres)}, emulator ${round(spent.emulator)}, Temporal ${round(spent.temporal)}, other ${round(spent.other)}`;

/** Where PostgreSQL's write-ahead log is (bytes since its start) and how many checkpoints it has made. */
async function writeAheadLog(db: BenchProduct['db']): Promise<{ bytes: number; checkpoints: number }> {
  // PostgreSQL 17 moved the checkpoint counters from pg_stat_bgwriter to pg_stat_checkpointer.
  const { rows } = await sql<{ bytes: string; checkpoints: string }>`
    select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text as bytes,
           (case when current_setting('server_version_num')::int >= 170000
                 then (xpath('/table/row/n/text()', query_to_xml('select num_timed + num_requested as n from pg_stat_checkpointer', true, false, '')))[1]::text
                 else (xpath('/table/row/n/text()', query_to_xml('select checkpoints_timed + checkpoints_req as n from pg_stat_bgwriter', true, false, '')))[1]::text end) as checkpoints`.execute(db);
  return { bytes: Number(rows[0]!.bytes), checkpoints: Number(rows[0]!.checkpoints) };
}

/** A generated tenant's id and groups only: its 300,000 users are not kept by this process meanwhile. */
function tenantGroups(options: typeof HUGE_TENANT): { id: string; groups: Array<{ id: string; displayName: string }> } {
  const generated = generateTenant(options);
  return { id: generated.id, groups: generated.groups!.map((group) => ({ id: group.id, displayName: group.displayName })) };
}

async function servePagesAlone(origin: string, tenantId: string, groupIds: string[]): Promise<number> {
  const token = await appToken({ httpsUrl: origin }, tenantId);
  const queue = [...groupIds];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let id = queue.shift(); id; id = queue.shift()) {
        for (let url: string | undefined = `${origin}/v1.0/groups/${id}/members?$select=${SELECT}&$top=999`; url; ) {
          const page: GraphPage = await graphPage(url, token);
          url = page.nextLink;
        }
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/**
 * The users, direct members and memberships a first sync committed for this connection, written
 * again for a connection of their own in one transaction, server-side (no round trip per row), in
 * the order the commit writes them, with every index, trigger and change event of the real
 * tables (`events: false`: without their triggers, so without change events); then rolled back.
 * Returns the seconds it took.
 */
async function writeRowsAsCommitted(db: BenchProduct['db'], connectionId: string, { events = true } = {}): Promise<number> {
  const copy = randomUUID();
  const started = performance.now();
  await db
    .transaction()
    .execute(async (trx) => {
      await writeEventsOfOneOrg(trx, connectionId);
      // Every trigger off for this transaction (the benchmark's PostgreSQL user is a superuser):
      // the events' and the connection checks', which cost little (one look-up a statement).
      if (!events) await sql`set local session_replication_role = replica`.execute(trx);
      await sql`insert into entra_connections (id, org_id, tenant_id, tenant_name) select ${copy}::uuid, org_id, gen_random_uuid(), tenant_name from entra_connections where id = ${connectionId}::uuid`.execute(trx);
      await sql`insert into synced_groups (connection_id, group_id, display_name) select ${copy}::uuid, group_id, display_name from synced_groups where connection_id = ${connectionId}::uuid`.execute(trx);
      await sql`insert into group_edges (connection_id, group_id, member_id, member_type)
        select ${copy}::uuid, group_id, member_id, member_type from group_edges where connection_id = ${connectionId}::uuid order by group_id, member_id`.execute(trx);
      await sql`insert into directory_users (connection_id, user_id, display_name, mail, user_principal_name, user_type, account_enabled, is_guest, is_shared_mailbox, email_domain)
        select ${copy}::uuid, user_id, display_name, mail, user_principal_name, user_type, account_enabled, is_guest, is_shared_mailbox, email_domain
        from directory_users where connection_id = ${connectionId}::uuid order by user_id`.execute(trx);
      await sql`analyze directory_users`.execute(trx);
      await sql`insert into group_memberships (connection_id, group_id, user_id)
        select ${copy}::uuid, group_id, user_id from group_memberships where connection_id = ${connectionId}::uuid order by group_id, user_id`.execute(trx);
      throw new RolledBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RolledBack)) throw error;
    });
  return (performance.now() - started) / 1000;
}

/** Ends the contract floor's transaction once its rows are written. */
class RolledBack extends Error {}

async function loadRowsAlone(db: BenchProduct['db'], tenant: ReturnType<typeof generateTenant>): Promise<number> {
  const connectionId = randomUUID();
  const users = tenant.users!;
  const started = performance.now();
  await db.transaction().execute(async (trx) => {
    await trx.schema.createTable('floor_users').temporary().as(trx.selectFrom('directory_users').selectAll().where((eb) => eb.lit(false))).execute();
    await trx.schema.createTable('floor_memberships').temporary().as(trx.selectFrom('group_memberships').selectAll().where((eb) => eb.lit(false))).execute();
    for (let i = 0; i < users.length; i += 5_000) {
      await trx
        .insertInto('floor_users' as 'directory_users')
        .values(users.slice(i, i + 5_000).map((user) => ({ connection_id: connectionId, user_id: user.id, display_name: user.displayName ?? null, mail: user.mail ?? null, user_principal_name: user.userPrincipalName, user_type: user.userType ?? 'Member', account_enabled: user.accountEnabled ?? true, removed_at: null, removed_reason: null })))
        .execute();
    }
    const memberships = tenant.groups!.flatMap((group) => (group.members as string[]).map((userId) => ({ connection_id: connectionId, group_id: group.id, user_id: userId })));
    for (let i = 0; i < memberships.length; i += 10_000) await trx.insertInto('floor_memberships' as 'group_memberships').values(memberships.slice(i, i + 10_000)).execute();
  });
  return (performance.now() - started) / 1000;
}

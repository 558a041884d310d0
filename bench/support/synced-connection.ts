import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_APP_ID } from '../../emulator/demo.js';
import { generateTenant, HUGE_TENANT, LARGE_TENANT } from '../../emulator/generate.js';
import type { LoggedRequest } from '../../emulator/request-log.js';
import { syncNowSignal, type DirectorySyncInput } from '../../workflows/sync/messages.js';
import { directorySyncWorkflow } from '../../workflows/sync/workflow.js';
import type { Benchmark } from '../figures.js';
import { startBenchProduct, type BenchProduct } from './product.js';

/**
 * A connection of the benchmark's tenant with every group synced, its sync workflow, and a way
 * to run one cycle and see what it cost: seconds, Graph requests and resource units (from the
 * emulator's log), and Temporal actions (from the run's history).
 */
export async function syncedConnection(product: BenchProduct, tenant: { id: string; groups?: Array<{ id: string; displayName: string }> }, input: Partial<DirectorySyncInput> = {}, taskQueue = product.taskQueue) {
  await product.emulator.control(`/tenants/${tenant.id}/consent`, 'POST', { action: 'grant', appId: DEMO_APP_ID });
  const orgId = await createOrgCommand(product.db, `bench-${Date.now()}`, 'Bench');
  const connectionId = await upsertConnection(product.db, { orgId, tenantId: tenant.id, tenantName: 'Fabrikam Global', verifiedDomains: [] });
  await product.db
    .insertInto('synced_groups')
    .values(tenant.groups!.map((group) => ({ connection_id: connectionId, group_id: group.id, display_name: group.displayName })))
    .execute();
  const handle = await product.client.workflow.start(directorySyncWorkflow, {
    workflowId: `bench-sync-${randomUUID()}`,
    taskQueue,
    args: [{ orgId, connectionId, tenantId: tenant.id, intervalMs: 3_600_000, ...input }],
  });
  const finished = async () => product.db.selectFrom('sync_runs').selectAll().where('connection_id', '=', connectionId).where('finished_at', 'is not', null).orderBy('started_at').execute();
  const requestLog = async () => (await product.emulator.control('/requests', 'GET')) as LoggedRequest[];

  return {
    connectionId,
    handle,
    /** "Sync now", then waits for the cycle to commit; the run's history is read once it has continued as new. */
    async cycle() {
      const before = (await finished()).length;
      const seq = (await requestLog()).at(-1)?.seq ?? 0;
      const runId = (await handle.describe()).runId;
      const started = performance.now();
      await handle.signal(syncNowSignal);
      let run;
      for (;;) {
        run = (await finished())[before];
        if (run) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const seconds = (performance.now() - started) / 1000;
      while ((await handle.describe()).runId === runId) await new Promise((resolve) => setTimeout(resolve, 50));
      const graph = (await requestLog()).filter((entry) => entry.seq > seq && entry.host === 'graph');
      const history = await product.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
      // Round trips (a $batch is one), and the requests inside $batches.
      const requests = graph.filter((entry) => entry.batchOf === undefined);
      const items = graph.filter((entry) => entry.batchOf !== undefined);
      return { seconds, run, requests, items, history, actions: temporalActions(history) };
    },
  };
}

/**
 * The Graph cost of a cycle's logged requests: round trips (a `$batch` is one), requests (a
 * `$batch`'s items counted one by one), resource units spent (a 429 spends none; a batch costs
 * what its items cost), and how many requests were 429s.
 */
export function graphCost(roundTrips: LoggedRequest[], items: LoggedRequest[] = []) {
  const requests = [...roundTrips.filter((entry) => entry.path !== '/$batch'), ...items];
  return {
    roundTrips: roundTrips.length,
    requests: requests.length,
    resourceUnits: requests.reduce((sum, entry) => sum + (entry.status === 429 ? 0 : (entry.resourceUnits ?? 0)), 0),
    throttled: requests.filter((entry) => entry.status === 429).length,
  };
}

/**
 * What Temporal Cloud bills for a run: its start (a continue-as-new is one), activities, timers,
 * signals, search-attribute and memo upserts, markers. Workflow tasks are counted apart: they are
 * the work the worker does, not billed actions.
 */
export function temporalActions(history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>) {
  const events = history.events ?? [];
  const billed = events.filter(
    (event) =>
      event.workflowExecutionStartedEventAttributes ??
      event.activityTaskScheduledEventAttributes ??
      event.timerStartedEventAttributes ??
      event.workflowExecutionSignaledEventAttributes ??
      event.upsertWorkflowSearchAttributesEventAttributes ??
      event.workflowPropertiesModifiedEventAttributes ??
      event.markerRecordedEventAttributes,
  ).length;
  return { billed, workflowTasks: events.filter((event) => event.workflowTaskScheduledEventAttributes).length, events: events.length };
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * The tenant the picker, preview, delta and api benchmarks run on: the 100,000-user / 1,000-group
 * one, or with `BENCH_TENANT=huge` the 300,000-user / 3,000-group one (the same shape, three times
 * over), to check that their goals hold on a tenant that large.
 */
export function benchTenant(): { options: typeof LARGE_TENANT; generate: 'large' | 'huge'; label: string } {
  const huge = process.env.BENCH_TENANT === 'huge';
  if (!huge && process.env.BENCH_TENANT !== undefined && process.env.BENCH_TENANT !== 'large') throw new Error(`BENCH_TENANT is large or huge, not ${process.env.BENCH_TENANT}`);
  const options = huge ? HUGE_TENANT : LARGE_TENANT;
  return { options, generate: huge ? 'huge' : 'large', label: `${options.users.toLocaleString('en-US')}-user / ${options.groups.toLocaleString('en-US')}-group` };
}

/**
 * The product with the benchmarks' tenant in its emulator (no latency, no throttling) and a
 * connection syncing every group, for `work`; stopped after it.
 */
export async function withBenchTenant(work: (product: BenchProduct, tenant: ReturnType<typeof generateTenant>, connection: Awaited<ReturnType<typeof syncedConnection>>) => Promise<void>): Promise<void> {
  const { options, generate } = benchTenant();
  const tenant = generateTenant(options);
  const product = await startBenchProduct(['--generate', generate]);
  try {
    await product.emulator.control('/faults', 'PATCH', { latencyMs: 0, throttling: false });
    await work(product, tenant, await syncedConnection(product, tenant));
  } finally {
    await product.stop();
  }
}

/** A run's read (from its start to the commit's, which stamps finished_at) and the rest: the commit. */
export function reportPhases(report: Parameters<Benchmark['run']>[0], label: string, cycle: { seconds: number; run: { started_at: Date; finished_at: Date | null } }): void {
  const read = (cycle.run.finished_at!.getTime() - cycle.run.started_at.getTime()) / 1000;
  report({ figure: `${label}: reading (run start to commit start)`, value: round(read), unit: 's', goal: null });
  report({ figure: `${label}: committing (the rest)`, value: round(cycle.seconds - read), unit: 's', goal: null });
}

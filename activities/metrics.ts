import { Context } from '@temporalio/activity';
import { noopMetricMeter, type MetricMeter } from '@temporalio/common';
import type { Context as GraphContext, Middleware } from '@microsoft/microsoft-graph-client';
import type { CommitResult } from '../workflows/sync/messages.js';

/**
 * The worker's own metrics, beside Temporal's (both on the worker's Prometheus endpoint,
 * WORKER_METRICS_PORT). They go through the activity's metric meter, so each carries the
 * namespace, task queue and activity type as tags; outside an activity (a script, a bench
 * calling an activity function directly) nothing is recorded. docs/operators.md lists them.
 */
export const WORKER_METRICS = {
  cycleDuration: 'hook_sync_cycle_duration_seconds',
  cycles: 'hook_sync_cycles',
  usersAdded: 'hook_sync_users_added',
  usersUpdated: 'hook_sync_users_updated',
  usersRemoved: 'hook_sync_users_removed',
  groupsFailed: 'hook_sync_groups_failed',
  removalsHeld: 'hook_sync_removals_held',
  graphResponses: 'hook_graph_responses',
  graphThrottled: 'hook_sync_graph_throttled',
  commitSteps: 'hook_sync_commit_step_seconds',
} as const;

/** Cycle durations from a 5-second delta round to a 100,000-user first read. */
export const CYCLE_DURATION_BUCKETS = [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

function meter(): MetricMeter {
  try {
    return Context.current().metricMeter;
  } catch {
    return noopMetricMeter;
  }
}

/** A commit's steps, from a delta's milliseconds to the minutes of a 300,000-user first sync's memberships. */
export const COMMIT_STEP_BUCKETS = [0.01, 0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * A committed cycle's figures: called once per run, after its transaction committed. `steps`:
 * the seconds each step of the commit took, so an operator sees where a slow commit's time went.
 */
export function recordCycleMetrics(cycle: { kind: 'full' | 'delta'; result: CommitResult; durationSeconds: number; steps: Record<string, number> }): void {
  const tags = { kind: cycle.kind, status: cycle.result.status };
  const m = meter();
  const steps = m.createHistogram(WORKER_METRICS.commitSteps, 'float', 's', 'Seconds each step of a sync commit took (step: direct_members, users, memberships, ...)');
  for (const [step, seconds] of Object.entries(cycle.steps)) steps.record(seconds, { kind: cycle.kind, step });
  m.createHistogram(WORKER_METRICS.cycleDuration, 'float', 's', 'Sync cycle duration, from the run opening to its commit').record(cycle.durationSeconds, tags);
  m.createCounter(WORKER_METRICS.cycles, 'cycles', 'Sync cycles committed, by kind and status').add(1, tags);
  m.createCounter(WORKER_METRICS.usersAdded, 'users', 'Users added (or restored) by sync cycles').add(cycle.result.usersAdded);
  m.createCounter(WORKER_METRICS.usersUpdated, 'users', 'Users whose details a sync cycle changed').add(cycle.result.usersUpdated);
  m.createCounter(WORKER_METRICS.usersRemoved, 'users', 'Users removed by sync cycles').add(cycle.result.usersRemoved);
  m.createCounter(WORKER_METRICS.groupsFailed, 'groups', 'Synced groups a cycle could not read').add(cycle.result.groupsFailed);
  m.createCounter(WORKER_METRICS.removalsHeld, 'users', 'Removals a cycle held for an admin to confirm').add(cycle.result.pendingRemovals);
}

/**
 * Counts every answer Graph gives, retries included, by HTTP status ("network" when none came):
 * it sits next to the network, below the retry handler, so each 429 it retried is counted.
 */
export class GraphResponseCounter implements Middleware {
  private next?: Middleware;

  async execute(context: GraphContext): Promise<void> {
    const counter = meter().createCounter(WORKER_METRICS.graphResponses, 'responses', 'Graph answers by HTTP status, retries included');
    try {
      await this.next!.execute(context);
    } catch (error) {
      counter.add(1, { status: 'network' });
      throw error;
    }
    counter.add(1, { status: String(context.response?.status ?? 'network') });
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

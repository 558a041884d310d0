import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  makeContinueAsNewFunc,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  allHandlersFinished,
  workflowInfo,
} from '@temporalio/workflow';
import type { createSyncActivities } from '../../activities/sync.js';
import { FailureType, NON_RETRYABLE } from '../failures.js';
import { connectionIdKey, lastSyncTimeKey, orgIdKey, syncStatusKey, tenantIdKey } from '../search-attributes.js';
import {
  confirmRemovalsSignal,
  reconnectedSignal,
  selectionChangedSignal,
  syncNowSignal,
  syncStatusQuery,
  type CarriedState,
  type DirectorySyncInput,
  type DirectorySyncStatus,
  type GroupOutcome,
  type SyncTrigger,
} from './messages.js';

type Activities = ReturnType<typeof createSyncActivities>;

const DEFAULT_INTERVAL_MS = 15 * 60 * 1000;
const GROUP_CONCURRENCY = 8;

// A group is retried with backoff while the others proceed; past its attempts it keeps its
// last known members until the next cycle. Refusals a retry cannot fix are not retried. The
// heartbeat timeout is how fast a dead worker's group moves to another worker.
const groupActivities = (heartbeatTimeoutMs: number) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
  });
const { beginSyncRun, commitSyncRun, recordGroupFailure } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumInterval: '1 minute' },
});

const REFUSALS: string[] = [FailureType.TokenRefused, FailureType.GraphRefused];

/**
 * The connection's sync, for years: a cycle on the interval, on "Sync now", on a selection
 * change and on reconnect; each cycle reads every synced group, then commits in one
 * transaction. Continues as new after every cycle so the history stays small.
 */
export async function directorySyncWorkflow(input: DirectorySyncInput, carried?: CarriedState): Promise<void> {
  const { syncGroup } = groupActivities(input.heartbeatTimeoutMs ?? 60_000);
  const state: CarriedState = carried ?? { selectionVersion: 0, retryGroupIds: [], pending: null, confirmRemovals: false, needsReconnect: false, cycles: 0 };
  const interval = input.intervalMs ?? DEFAULT_INTERVAL_MS;
  let running = false;
  let nextRunAt = Date.now() + interval;
  const request = (trigger: SyncTrigger) => {
    state.pending ??= trigger;
  };

  setHandler(selectionChangedSignal, (change) => {
    if (change.version < state.selectionVersion) return; // an older save arriving late
    state.selectionVersion = change.version;
    state.retryGroupIds = [...new Set([...state.retryGroupIds, ...change.retryGroupIds])];
    request('selection');
  });
  setHandler(syncNowSignal, () => request('sync-now'));
  setHandler(confirmRemovalsSignal, () => {
    state.confirmRemovals = true;
    request('confirm');
  });
  setHandler(reconnectedSignal, () => {
    state.needsReconnect = false;
    request('reconnect');
  });
  setHandler(
    syncStatusQuery,
    (): DirectorySyncStatus => ({
      connectionId: input.connectionId,
      running,
      selectionVersion: state.selectionVersion,
      retryGroupIds: state.retryGroupIds,
      needsReconnect: state.needsReconnect,
      cycles: state.cycles,
      lastRun: state.lastRun,
      nextRunAt: new Date(nextRunAt).toISOString(),
    }),
  );
  upsertSearchAttributes([
    { key: orgIdKey, value: input.orgId },
    { key: tenantIdKey, value: input.tenantId },
    { key: connectionIdKey, value: input.connectionId },
  ]);

  // Wait for a reason to run: a request, or the interval (not while consent is missing).
  if (state.needsReconnect) await condition(() => state.pending !== null);
  else await condition(() => state.pending !== null, interval);
  const trigger: SyncTrigger = state.pending ?? 'schedule';
  state.pending = null;

  running = true;
  upsertSearchAttributes([{ key: syncStatusKey, value: 'running' }]);
  const runId = uuid4();
  const groupIds = await beginSyncRun(input.connectionId, runId, trigger);
  // Groups that failed before (in preview or the last cycle) go first.
  const retryFirst = new Set(state.retryGroupIds);
  const queue = [...groupIds.filter((id) => retryFirst.has(id)), ...groupIds.filter((id) => !retryFirst.has(id))];
  const outcomes: GroupOutcome[] = [];
  await Promise.all(
    Array.from({ length: Math.min(GROUP_CONCURRENCY, queue.length) }, async () => {
      for (let groupId = queue.shift(); groupId !== undefined; groupId = queue.shift()) {
        try {
          outcomes.push(await syncGroup(input.connectionId, runId, input.tenantId, groupId));
        } catch (error) {
          const cause = error instanceof ActivityFailure ? error.cause : error;
          const message = cause instanceof Error ? cause.message : 'failed';
          await recordGroupFailure(runId, groupId, message);
          outcomes.push({ groupId, status: 'failed', error: message, failureType: cause instanceof ApplicationFailure ? (cause.type as FailureType) : undefined });
        }
      }
    }),
  );

  // Every group refused for consent reasons: the tenant took Hook's access away.
  const refused = outcomes.length > 0 && outcomes.every((outcome) => outcome.status === 'failed' && REFUSALS.includes(outcome.failureType ?? ''));
  state.needsReconnect = refused;
  const result = await commitSyncRun(input.connectionId, runId, {
    maxRemovalShare: input.maxRemovalShare ?? 0.2,
    confirmRemovals: state.confirmRemovals,
    missingGraceMs: input.missingGraceMs ?? 7 * 24 * 60 * 60 * 1000,
    needsReconnect: refused,
    error: refused ? 'Microsoft refused Hook’s access to this tenant: reconnect it.' : undefined,
  });
  if (result.status !== 'awaiting_confirmation') state.confirmRemovals = false;
  state.retryGroupIds = outcomes.filter((outcome) => outcome.status !== 'ok').map((outcome) => outcome.groupId);
  state.cycles += 1;
  state.lastRun = { ...result, runId, trigger, finishedAt: new Date().toISOString() };
  running = false;
  nextRunAt = Date.now() + interval;
  const status = refused ? 'needs_reconnect' : result.status === 'awaiting_confirmation' ? 'awaiting_confirmation' : result.groupsFailed > 0 ? 'failing' : 'ok';
  upsertSearchAttributes([
    { key: syncStatusKey, value: status },
    { key: lastSyncTimeKey, value: new Date() },
  ]);
  upsertMemo({ lastRun: state.lastRun });

  // Signals that arrived during the cycle are carried over in `state`; the next run serves them.
  // The memo (tenant name, last run) goes along, so operators see it on the newest run.
  await condition(allHandlersFinished);
  await makeContinueAsNewFunc<typeof directorySyncWorkflow>({ memo: { ...workflowInfo().memo, lastRun: state.lastRun } })(input, state);
}

import {
  ApplicationFailure,
  condition,
  makeContinueAsNewFunc,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  allHandlersFinished,
  getExternalWorkflowHandle,
  workflowInfo,
} from '@temporalio/workflow';
import { groupSelectionWorkflowId } from '../group-selection/messages.js';
import type { createSyncActivities } from '../../activities/sync/index.js';
import { failureOf, FailureType, NON_RETRYABLE } from '../failures.js';
import { syncStatusAfter } from './status.js';
import { connectionIdKey, lastSyncTimeKey, orgIdKey, syncStatusKey, tenantIdKey } from '../search-attributes.js';
import {
  confirmRemovalsSignal,
  confirmRemovalsUpdate,
  disconnectUpdate,
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

const DEFAULT_INTERVAL_MS = 5 * 60 * 1000;
const DEFAULT_FULL_RECONCILE_MS = 24 * 60 * 60 * 1000;
// Groups are read twenty to an activity, four activities at a time (each reads three at once):
// a 1,000-group cycle is 50 activities, not 1,000, and its history stays a few hundred events.
const GROUPS_PER_BATCH = 20;
const BATCHES_IN_FLIGHT = 4;

// A read is retried with backoff; past its attempts a group keeps its last known members until
// the next cycle. Refusals a retry cannot fix are not retried. The heartbeat timeout is how fast
// a dead worker's read moves to another worker.
const readActivities = (heartbeatTimeoutMs: number) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
  });
// Opening, probing and committing retry until they succeed; they heartbeat too, so a worker that
// dies in the middle of a commit hands it over within the heartbeat timeout, not minutes later.
const stepActivities = (heartbeatTimeoutMs: number) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { maximumInterval: '1 minute' },
  });

const REFUSALS: string[] = [FailureType.TokenRefused, FailureType.GraphRefused];

/** A failed step as the cycle records it: the message and the named type (workflows/failures.ts). */
function stepFailure(error: unknown): { message: string; failureType?: FailureType } {
  const failure = failureOf(error);
  return { message: failure.message, failureType: failure.type };
}

/**
 * The connection's sync, for years: a cycle on the interval, on "Sync now", on a selection
 * change and on reconnect, then one commit in one transaction. The first cycle, and one a day
 * after it, reads every synced group in full; the cycles between read only what changed
 * (Graph delta queries). Continues as new after every cycle so the history stays small.
 */
export async function directorySyncWorkflow(input: DirectorySyncInput, carried?: CarriedState): Promise<void> {
  const { syncGroups, readDelta } = readActivities(input.heartbeatTimeoutMs ?? 60_000);
  const { beginSyncRun, checkAccess, commitSyncRun, recordBatchFailure, disconnectConnection } = stepActivities(input.heartbeatTimeoutMs ?? 60_000);
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
  // A bare signal (a web process from before) names no set: it confirms nothing.
  setHandler(confirmRemovalsSignal, () => undefined);
  setHandler(
    confirmRemovalsUpdate,
    () => {
      state.confirmed = state.awaiting;
      request('confirm');
      return { count: state.awaiting?.count ?? 0 };
    },
    {
      validator: ({ runId, digest }) => {
        const held = state.awaiting;
        if (!held) throw ApplicationFailure.create({ type: FailureType.NothingToConfirm, message: 'No removals are waiting for confirmation any more.', nonRetryable: true });
        if (held.runId !== runId || held.digest !== digest) {
          throw ApplicationFailure.create({ type: FailureType.RemovalsChanged, message: `The removals changed since this page was loaded: the last sync would now remove ${held.count} users. Check them again before confirming.`, nonRetryable: true });
        }
      },
    },
  );
  let disconnected = false;
  setHandler(disconnectUpdate, async () => {
    await condition(() => !running); // a commit in flight finishes first
    const result = await disconnectConnection(input.connectionId);
    disconnected = true;
    // An open group selection of this connection ends with it (none open: nothing to end).
    await getExternalWorkflowHandle(groupSelectionWorkflowId(input.connectionId))
      .cancel()
      .catch(() => undefined);
    return result;
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
  // Later runs inherit them through continue-as-new.
  if (!carried) {
    upsertSearchAttributes([
      { key: orgIdKey, value: input.orgId },
      { key: tenantIdKey, value: input.tenantId },
      { key: connectionIdKey, value: input.connectionId },
    ]);
  }

  /**
   * Reads every synced group in full, and every group nested in them, in batches; groups that
   * failed before go first. A group that fails past its retries is noted and skipped.
   */
  async function readInFull(runId: string, trigger: SyncTrigger): Promise<GroupOutcome[]> {
    const groupIds = await beginSyncRun(input.connectionId, runId, input.tenantId, trigger);
    const retryFirst = new Set(state.retryGroupIds);
    const queue = [...groupIds.filter((id) => retryFirst.has(id)), ...groupIds.filter((id) => !retryFirst.has(id))];
    const seen = new Set(queue);
    const outcomes: GroupOutcome[] = [];
    const enqueue = (groupIds: string[]) => {
      for (const groupId of groupIds) {
        if (seen.has(groupId)) continue;
        seen.add(groupId);
        queue.push(groupId);
      }
    };
    let reading = 0;
    const readNext = async (): Promise<void> => {
      for (;;) {
        await condition(() => queue.length > 0 || reading === 0);
        const batch = queue.splice(0, GROUPS_PER_BATCH);
        if (batch.length === 0) return;
        reading += 1;
        try {
          for (const outcome of await syncGroups(input.connectionId, runId, input.tenantId, batch)) {
            outcomes.push(outcome);
            enqueue(outcome.nestedGroupIds ?? []);
          }
        } catch (error) {
          // Past its retries: the groups it could not read are noted; the others were read, and
          // the groups nested in them are still to read.
          const failure = stepFailure(error);
          const { failed, nested } = await recordBatchFailure(runId, batch, failure.message);
          for (const groupId of failed) outcomes.push({ groupId, status: 'failed', error: failure.message, failureType: failure.failureType });
          enqueue(nested);
        } finally {
          reading -= 1;
        }
      }
    };
    await Promise.all(Array.from({ length: BATCHES_IN_FLIGHT }, readNext));
    return outcomes;
  }

  // Wait for a reason to run: a request, or the interval (not while consent is missing).
  if (state.needsReconnect) await condition(() => state.pending !== null || disconnected);
  else await condition(() => state.pending !== null || disconnected, interval);
  if (disconnected) {
    await condition(allHandlersFinished);
    return; // disconnected: the connection's sync ends here
  }
  const trigger: SyncTrigger = state.pending ?? 'schedule';
  state.pending = null;

  running = true;
  const runId = uuid4();
  let kind: 'full' | 'delta' = state.fullSyncDueAt === undefined || Date.now() >= state.fullSyncDueAt ? 'full' : 'delta';
  let outcomes: GroupOutcome[] = [];
  let readFailure: ReturnType<typeof stepFailure> | undefined;
  if (kind === 'delta') {
    try {
      const read = await readDelta(input.connectionId, runId, input.tenantId, trigger, state.retryGroupIds);
      if (read.status === 'ok') outcomes = read.failedGroupIds.map((groupId) => ({ groupId, status: 'failed' }));
      else kind = 'full'; // no links yet, or Graph expired them: read everything instead
    } catch (error) {
      readFailure = stepFailure(error);
    }
  }
  if (kind === 'full') {
    upsertSearchAttributes([{ key: syncStatusKey, value: 'running' }]);
    outcomes = await readInFull(runId, trigger);
  }

  // Reads refused: either the tenant took Hook's access away (consent revoked, permissions
  // removed, even in the middle of the cycle) or only some groups are off limits. Ask Entra.
  const someRefused = readFailure ? REFUSALS.includes(readFailure.failureType ?? '') : outcomes.some((outcome) => outcome.status === 'failed' && REFUSALS.includes(outcome.failureType ?? ''));
  const refused = someRefused && !(await checkAccess(input.tenantId));
  state.needsReconnect = refused;
  const result = await commitSyncRun(input.connectionId, runId, {
    trigger,
    maxRemovalShare: input.maxRemovalShare ?? 0.2,
    confirmRemovals: state.confirmRemovals,
    confirmed: state.confirmed,
    missingGraceMs: input.missingGraceMs ?? 7 * 24 * 60 * 60 * 1000,
    needsReconnect: refused,
    readFailed: readFailure !== undefined,
    error: refused ? 'Microsoft refused Hook’s access to this tenant: reconnect it.' : readFailure ? `Could not read the changes from Entra: ${readFailure.message}` : undefined,
  });
  if (kind === 'full' && !refused) state.fullSyncDueAt = Date.now() + (input.fullReconcileMs ?? DEFAULT_FULL_RECONCILE_MS);
  state.confirmRemovals = false;
  state.confirmed = undefined;
  state.awaiting = result.status === 'awaiting_confirmation' && result.pendingDigest ? { runId, count: result.pendingRemovals, digest: result.pendingDigest } : undefined;
  if (!readFailure) state.retryGroupIds = outcomes.filter((outcome) => outcome.status !== 'ok').map((outcome) => outcome.groupId);
  state.cycles += 1;
  state.lastRun = { ...result, runId, kind, trigger, finishedAt: new Date().toISOString() };
  running = false;
  nextRunAt = Date.now() + interval;
  upsertSearchAttributes([
    { key: syncStatusKey, value: syncStatusAfter({ needsReconnect: refused, result }) },
    { key: lastSyncTimeKey, value: new Date() },
  ]);

  // Signals that arrived during the cycle are carried over in `state`; the next run serves them.
  // The memo (tenant name, last run) and the search attributes go along, so operators see them
  // on the newest run.
  await condition(allHandlersFinished);
  if (disconnected) return; // disconnected right after this cycle
  await makeContinueAsNewFunc<typeof directorySyncWorkflow>({ memo: { ...workflowInfo().memo, lastRun: state.lastRun }, typedSearchAttributes: workflowInfo().typedSearchAttributes })(input, state);
}

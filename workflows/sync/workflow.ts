import {
  ApplicationFailure,
  condition,
  makeContinueAsNewFunc,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  allHandlersFinished,
  getExternalWorkflowHandle,
  workflowInfo,
} from '@temporalio/workflow';
import { groupSelectionWorkflowId } from '../group-selection/messages.js';
import { FailureType } from '../failures.js';
import { DEFAULT_FULL_RECONCILE_MS, DEFAULT_INTERVAL_MS, readActivities, REFUSALS, stepActivities, stepFailure } from './activities.js';
import { readInFull } from './read-in-full.js';
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
    outcomes = await readInFull({ beginSyncRun, syncGroups, recordBatchFailure }, input, { runId, trigger, retryGroupIds: state.retryGroupIds });
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

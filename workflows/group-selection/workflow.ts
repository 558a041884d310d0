import {
  ApplicationFailure,
  CancellationScope,
  condition,
  proxyActivities,
  setHandler,
  sleep,
  uuid4,
} from '@temporalio/workflow';
import type { createSelectionActivities } from '../../activities/selection/index.js';
import { describeFailure, failureOf, FailureType, NON_RETRYABLE } from '../failures.js';
import {
  MAX_SELECTION,
  requestPreviewUpdate,
  saveSelectionUpdate,
  searchGroupsUpdate,
  selectionStatusQuery,
  type GroupSelectionInput,
  type PreviewSummary,
  type SelectionStatus,
} from './messages.js';

type Activities = ReturnType<typeof createSelectionActivities>;

const DEFAULT_PREVIEW_BUDGET_MS = 20_000;
const PREVIEW_CONCURRENCY = 10;
/** A run nobody touches for this long ends; the next "Manage groups" starts a fresh one. */
const IDLE_TIMEOUT_MS = 60 * 60 * 1000;

const { loadGroups, searchGroups } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 4, nonRetryableErrorTypes: NON_RETRYABLE },
});
// Sampling retries throttling quickly: the preview's budget, not the retry policy, bounds it.
const { sampleGroup } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 ms', maximumInterval: '5 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
});
const { saveSelection, startSync } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { nonRetryableErrorTypes: [FailureType.StaleSelection] },
});

/**
 * Manage groups: load the picker's groups, let admins search and preview selections within a
 * time budget, then save once and hand the selection to the connection's sync workflow.
 */
export async function groupSelectionWorkflow(input: GroupSelectionInput, baseVersion: number, savedGroupIds: string[]): Promise<SelectionStatus> {
  const status: SelectionStatus = { stage: 'loading', baseVersion, selection: [...savedGroupIds], loadedGroups: 0, truncated: false };
  // Group ids the picker showed (loaded or found by search): the only ones a selection may hold.
  const known = new Set<string>(savedGroupIds);
  let lastActivity = Date.now();
  const touch = () => {
    lastActivity = Date.now();
  };

  setHandler(selectionStatusQuery, () => status);

  setHandler(
    searchGroupsUpdate,
    async ({ query }) => {
      touch();
      const found = await searchGroups(input.connectionId, input.tenantId, query);
      for (const group of found) known.add(group.id);
      return found;
    },
    {
      validator: ({ query }) => {
        if (typeof query !== 'string' || query.trim().length < 1 || query.length > 100) {
          throw ApplicationFailure.nonRetryable('Search for 1 to 100 characters of a group name.', FailureType.InvalidInput);
        }
      },
    },
  );

  setHandler(
    requestPreviewUpdate,
    async ({ groupIds }) => {
      touch();
      status.selection = [...new Set(groupIds)];
      status.stage = 'previewing';
      const preview = await runPreview(input, status.selection);
      status.preview = preview;
      status.stage = 'previewed';
      return preview;
    },
    {
      validator: ({ groupIds, baseVersion: version }) => {
        if (status.stage === 'loading') throw ApplicationFailure.nonRetryable('The groups are still loading.', FailureType.NotReady);
        if (status.stage === 'saved') throw ApplicationFailure.nonRetryable('This selection was saved already.', FailureType.StaleSelection);
        if (!Array.isArray(groupIds) || groupIds.length > MAX_SELECTION) {
          throw ApplicationFailure.nonRetryable(`Select at most ${MAX_SELECTION} groups.`, FailureType.InvalidInput);
        }
        const unknown = groupIds.filter((id) => typeof id !== 'string' || !known.has(id));
        if (unknown.length > 0) {
          throw ApplicationFailure.nonRetryable(`${unknown.length} of the selected groups are not groups of this directory.`, FailureType.InvalidInput);
        }
        if (version !== status.baseVersion) {
          throw ApplicationFailure.nonRetryable('Another admin saved a different selection meanwhile. Reload the picker to see it.', FailureType.StaleSelection);
        }
      },
    },
  );

  setHandler(
    saveSelectionUpdate,
    async ({ saveId }) => {
      touch();
      const { version } = await saveSelection(input.connectionId, status.baseVersion, saveId, status.selection);
      await startSync({
        orgId: input.orgId,
        connectionId: input.connectionId,
        tenantId: input.tenantId,
        version,
        retryGroupIds: [...(status.preview?.failedGroupIds ?? []), ...(status.preview?.timedOutGroupIds ?? [])],
      });
      status.stage = 'saved';
      return { version };
    },
    {
      validator: ({ saveId, previewId, baseVersion: version }) => {
        if (status.stage !== 'previewed') throw ApplicationFailure.nonRetryable('Preview the selection before saving it.', FailureType.NotReady);
        if (typeof saveId !== 'string' || !/^[\w-]{8,64}$/.test(saveId)) throw ApplicationFailure.nonRetryable('Invalid save request.', FailureType.InvalidInput);
        // Bound to what this admin saw: the preview on their page, from the version they started on.
        if (previewId !== status.preview?.previewId || version !== status.baseVersion) {
          throw ApplicationFailure.nonRetryable('Someone else changed this selection since you opened the preview (another admin, or another tab). Here is the current one: check it before saving.', FailureType.StaleSelection);
        }
      },
    },
  );

  try {
    const loaded = await loadGroups(input.connectionId, input.tenantId);
    for (const id of loaded.groupIds) known.add(id);
    status.loadedGroups = loaded.groupIds.length;
    status.truncated = loaded.truncated;
  } catch (error) {
    status.stage = 'failed';
    status.failure = describeFailure(failureOf(error));
    return status;
  }
  status.stage = 'ready';
  touch();

  for (;;) {
    const finished = await condition(() => status.stage === 'saved', IDLE_TIMEOUT_MS);
    if (finished || Date.now() - lastActivity >= IDLE_TIMEOUT_MS) break;
  }
  return status;
}

/** Samples each group in parallel, racing the budget; what is still running then is cancelled. */
async function runPreview(input: GroupSelectionInput, groupIds: string[]): Promise<PreviewSummary> {
  const previewId = uuid4();
  const done = new Set<string>();
  const failed = new Set<string>();
  const queue = [...groupIds];
  const scope = new CancellationScope();
  const sampling = scope.run(() =>
    Promise.all(
      Array.from({ length: Math.min(PREVIEW_CONCURRENCY, queue.length) }, async () => {
        for (let groupId = queue.shift(); groupId !== undefined; groupId = queue.shift()) {
          try {
            const outcome = await sampleGroup(input.connectionId, previewId, input.tenantId, groupId);
            (outcome === 'ok' ? done : failed).add(groupId);
          } catch {
            // Cancelled at the deadline (then it counts as timed out), or failed past its retries.
            if (CancellationScope.current().consideredCancelled) return;
            failed.add(groupId);
          }
        }
      }),
    ),
  );
  const finishedInTime = await Promise.race([sampling.then(() => true), sleep(input.previewBudgetMs ?? DEFAULT_PREVIEW_BUDGET_MS).then(() => false)]);
  if (!finishedInTime) scope.cancel();
  const timedOut = groupIds.filter((id) => !done.has(id) && !failed.has(id));
  return { previewId, groupIds, failedGroupIds: [...failed], timedOutGroupIds: timedOut, partial: timedOut.length > 0 };
}

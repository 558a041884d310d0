import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Db } from '../../db/client.js';
import type { Connection } from '../../db/repositories/connections.js';
import { groupNames, pickerGroups, previewSamples, saveImpact, savedGroupIds } from '../../db/repositories/selection.js';
import { describeFailure, FailureType } from '../../workflows/failures.js';
import { GROUP_SELECTION_WORKFLOW, groupSelectionWorkflowId, selectionStatusQuery, type SelectionStatus } from '../../workflows/group-selection/messages.js';
import type { groupSelectionWorkflow } from '../../workflows/group-selection/workflow.js';

type SelectionRun = WorkflowHandle<typeof groupSelectionWorkflow>;

/** The group selection as the picker and preview pages read and drive it: one run per connection. */
export function createSelectionService({ db, temporal, taskQueue, previewBudgetMs }: { db: Db; temporal: Client; taskQueue: string; previewBudgetMs: number }) {
  return {
    /** The connection's selection run, started when nobody has one open (one run per connection). */
    async start(connection: Connection): Promise<SelectionRun> {
      return temporal.workflow.start<typeof groupSelectionWorkflow>(GROUP_SELECTION_WORKFLOW, {
        workflowId: groupSelectionWorkflowId(connection.id),
        taskQueue,
        args: [{ orgId: connection.org_id, connectionId: connection.id, tenantId: connection.tenant_id, previewBudgetMs }, connection.selection_version, await savedGroupIds(db, connection.id)],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    },

    /**
     * The connection's open selection run, if there is one. GETs only read: a prefetch or a
     * cross-site navigation must not start a run that reads 1,000 groups from Graph.
     */
    async open(connection: Connection): Promise<SelectionRun | undefined> {
      const handle = temporal.workflow.getHandle<typeof groupSelectionWorkflow>(groupSelectionWorkflowId(connection.id));
      try {
        return (await handle.describe()).status.name === 'RUNNING' ? handle : undefined;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      }
    },

    /** What the picker lists: the run's state, the groups loaded (none while loading) and what is saved. */
    async picker(connection: Connection, selection: SelectionStatus) {
      const saved = await savedGroupIds(db, connection.id);
      const groups = selection.stage === 'loading' || selection.stage === 'failed' ? [] : await pickerGroups(db, connection.id, selection.selection);
      return { selection, selected: new Set(selection.selection), saved: new Set(saved), groups };
    },

    status: (handle: SelectionRun) => handle.query(selectionStatusQuery),

    /** What the preview page shows: each group with its sample, the groups added and removed, and the save's impact. */
    async preview(connection: Connection, status: SelectionStatus) {
      const preview = status.preview!;
      const saved = await savedGroupIds(db, connection.id);
      const [samples, names, impact] = await Promise.all([
        previewSamples(db, connection.id, preview.previewId),
        groupNames(db, connection.id, [...new Set([...preview.groupIds, ...saved])]),
        saveImpact(db, connection.id, preview.previewId, preview.groupIds),
      ]);
      const nameOf = new Map(names.map((row) => [row.group_id, row.display_name]));
      const typeOf = new Map(names.map((row) => [row.group_id, row.group_type]));
      const sampleOf = new Map(samples.map((sample) => [sample.group_id, sample]));
      const name = (id: string) => nameOf.get(id) ?? id;
      // Two groups with one name are told apart by type, size and a short id.
      const nameCount = new Map<string, number>();
      for (const id of preview.groupIds) nameCount.set(name(id), (nameCount.get(name(id)) ?? 0) + 1);
      return {
        title: 'Preview the sync',
        section: 'integrations',
        connection,
        preview,
        baseVersion: status.baseVersion,
        groups: preview.groupIds.map((id) => ({
          id,
          name: name(id),
          type: typeOf.get(id) ?? null,
          sameName: (nameCount.get(name(id)) ?? 0) > 1,
          sample: sampleOf.get(id),
          // What a failed sample can do about it, in words (hidden membership has advice of its own).
          advice: sampleOf.get(id)?.error === FailureType.HiddenMembership ? describeFailure({ type: FailureType.HiddenMembership, message: '' }) : undefined,
          failed: preview.failedGroupIds.includes(id),
          timedOut: preview.timedOutGroupIds.includes(id),
        })),
        added: preview.groupIds.filter((id) => !saved.includes(id)).map(name),
        removed: saved.filter((id) => !preview.groupIds.includes(id)).map(name),
        impact,
      };
    },
  };
}

export type SelectionService = ReturnType<typeof createSelectionService>;

import { ApplicationFailure } from '@temporalio/activity';
import type { Client as TemporalClient } from '@temporalio/client';
import type { Db } from '../../db/client.js';
import { writeEventsOfOneOrg } from '../../db/repositories/events.js';
import { createSyncLauncher } from '../../lib/sync-launcher.js';
import { FailureType } from '../../workflows/failures.js';

export interface SelectionDeps {
  db: Db;
  /** For handing a saved selection to the sync workflow (signal-with-start), with its settings. */
  temporal: { client: TemporalClient; taskQueue: string; sync?: { intervalMs: number; maxRemovalShare: number; missingGraceMs: number; fullReconcileMs: number } };
}

export function createSaveActivities({ db, temporal }: SelectionDeps) {
  return {
    /**
     * Saves the selection in one transaction, once: a retry of the same save (same saveId) finds
     * it done; a save based on an older version than the stored one is refused as stale.
     */
    async saveSelection(connectionId: string, baseVersion: number, saveId: string, groupIds: string[]): Promise<{ version: number }> {
      return db.transaction().execute(async (trx) => {
        // A group taken out announces its members' removal: other orgs' feeds need not wait for it.
        await writeEventsOfOneOrg(trx, connectionId);
        const connection = await trx
          .selectFrom('entra_connections')
          .select(['selection_version', 'last_save_id', 'status'])
          .where('id', '=', connectionId)
          .forUpdate()
          .executeTakeFirstOrThrow();
        if (connection.last_save_id === saveId) return { version: connection.selection_version };
        // Disconnected meanwhile (in another tab): a save must not bring it back.
        if (connection.status === 'disconnected') {
          throw ApplicationFailure.create({ type: FailureType.Disconnected, message: 'This directory was disconnected meanwhile; connect it again before saving a selection.', nonRetryable: true });
        }
        if (connection.selection_version !== baseVersion) {
          throw ApplicationFailure.create({
            type: FailureType.StaleSelection,
            message: 'Another admin saved a different selection for this directory meanwhile. Reload the picker to see it.',
            nonRetryable: true,
          });
        }
        const names = groupIds.length === 0 ? [] : await trx.selectFrom('entra_groups').select(['group_id', 'display_name']).where('connection_id', '=', connectionId).where('group_id', 'in', groupIds).execute();
        const nameOf = new Map(names.map((row) => [row.group_id, row.display_name]));
        // Groups kept keep their row (and Hook id); only the groups left and the groups new change,
        // and each such change is an event (migration 0013).
        await trx
          .deleteFrom('synced_groups')
          .where('connection_id', '=', connectionId)
          .$if(groupIds.length > 0, (query) => query.where('group_id', 'not in', groupIds))
          .execute();
        if (groupIds.length > 0) {
          await trx
            .insertInto('synced_groups')
            .values(groupIds.map((id) => ({ connection_id: connectionId, group_id: id, display_name: nameOf.get(id) ?? id })))
            .onConflict((conflict) => conflict.columns(['connection_id', 'group_id']).doNothing())
            .execute();
        }
        const version = baseVersion + 1;
        await trx.updateTable('entra_connections').set({ selection_version: version, last_save_id: saveId, updated_at: new Date() }).where('id', '=', connectionId).execute();
        return { version };
      });
    },

    /** Hands the saved selection to the connection's sync workflow, starting it if needed. */
    async startSync(input: { orgId: string; connectionId: string; tenantId: string; version: number; retryGroupIds: string[] }): Promise<void> {
      const connection = await db.selectFrom('entra_connections').select('tenant_name').where('id', '=', input.connectionId).executeTakeFirst();
      await createSyncLauncher(temporal.client, temporal.taskQueue, temporal.sync).selectionSaved({ ...input, tenantName: connection?.tenant_name ?? input.tenantId }, { version: input.version, retryGroupIds: input.retryGroupIds });
    },
  };
}

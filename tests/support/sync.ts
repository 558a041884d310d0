import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Db } from '../../db/client.js';
import { confirmRemovalsUpdate, reconnectedSignal, syncNowSignal, type DirectorySyncInput } from '../../workflows/sync/messages.js';
import { directorySyncWorkflow } from '../../workflows/sync/workflow.js';
import { uniqueName } from './temporal.js';
import { waitFor } from './wait.js';

/**
 * Drives one connection's sync workflow from a test: chooses the synced groups, runs a cycle
 * ("Sync now", confirm or reconnect) and waits for it to commit, and reads back the result.
 */
export function syncHarness(deps: { db: Db; client: Client; taskQueue: string; orgId: string; connectionId: string; tenantId: string; input?: Partial<DirectorySyncInput> }) {
  const { db, connectionId } = deps;
  let handle: WorkflowHandle<typeof directorySyncWorkflow> | undefined;

  const finishedRuns = async () => Number((await db.selectFrom('sync_runs').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', connectionId).where('finished_at', 'is not', null).executeTakeFirstOrThrow()).n);

  return {
    connectionId,
    get handle() {
      if (!handle) throw new Error('no cycle has run yet');
      return handle;
    },

    /** As a save does: groups no longer chosen go, new ones come in, the others keep their rows. */
    async syncGroups(groupIds: string[]) {
      await db
        .deleteFrom('synced_groups')
        .where('connection_id', '=', connectionId)
        .where((eb) => (groupIds.length === 0 ? eb.lit(true) : eb('group_id', 'not in', groupIds)))
        .execute();
      if (groupIds.length > 0) {
        await db
          .insertInto('synced_groups')
          .values(groupIds.map((groupId) => ({ connection_id: connectionId, group_id: groupId, display_name: groupId })))
          .onConflict((conflict) => conflict.columns(['connection_id', 'group_id']).doNothing())
          .execute();
      }
    },

    /** Starts the workflow (first time) or signals it, and waits for the cycle to commit. */
    async cycle(options: Partial<DirectorySyncInput> = {}, signal: 'sync-now' | 'confirm' | 'reconnect' = 'sync-now') {
      const before = await finishedRuns();
      if (!handle || (await handle.describe().then((d) => d.status.name !== 'RUNNING', () => true))) {
        handle = await deps.client.workflow.start(directorySyncWorkflow, {
          workflowId: uniqueName('sync'),
          taskQueue: deps.taskQueue,
          args: [{ orgId: deps.orgId, connectionId, tenantId: deps.tenantId, intervalMs: 3_600_000, ...deps.input, ...options }],
        });
      }
      if (signal === 'confirm') {
        // As the pane's button does: the held set it shows, by run and digest.
        const held = await db.selectFrom('entra_connections').select(['pending_run_id', 'pending_digest']).where('id', '=', connectionId).executeTakeFirstOrThrow();
        await handle.executeUpdate(confirmRemovalsUpdate, { args: [{ runId: held.pending_run_id ?? '', digest: held.pending_digest ?? '' }] });
      } else {
        await handle.signal(signal === 'reconnect' ? reconnectedSignal : syncNowSignal);
      }
      await waitFor(async () => ((await finishedRuns()) > before ? true : undefined), 'a sync cycle', 120_000);
      return db.selectFrom('sync_runs').selectAll().where('connection_id', '=', connectionId).orderBy('started_at', 'desc').executeTakeFirstOrThrow();
    },

    async activeUsers() {
      return (await db.selectFrom('directory_users').select('display_name').where('connection_id', '=', connectionId).where('removed_at', 'is', null).orderBy('display_name').execute()).map((row) => row.display_name);
    },

    /** Everything a sync decides, in a comparable form: users with their properties, and memberships. */
    async snapshot() {
      const users = await db
        .selectFrom('directory_users')
        .select(['user_id', 'display_name', 'mail', 'user_principal_name', 'user_type', 'account_enabled', 'is_guest', 'is_shared_mailbox', 'email_domain', 'removed_reason'])
        .select((eb) => eb('removed_at', 'is not', null).as('removed'))
        .where('connection_id', '=', connectionId)
        .orderBy('user_id')
        .execute();
      const memberships = await db.selectFrom('group_memberships').select(['group_id', 'user_id']).where('connection_id', '=', connectionId).orderBy('group_id').orderBy('user_id').execute();
      const groups = await db.selectFrom('synced_groups').select(['group_id', 'display_name', 'member_count']).where('connection_id', '=', connectionId).orderBy('group_id').execute();
      return { users, memberships, groups };
    },

    async terminate() {
      await handle?.terminate().catch(() => undefined);
      handle = undefined;
    },
  };
}

export type SyncHarness = ReturnType<typeof syncHarness>;

import { activityInfo, ApplicationFailure, heartbeat, metricMeter } from '@temporalio/activity';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { FailureType } from '../workflows/failures.js';
import type { CommitOptions, CommitResult, GroupOutcome } from '../workflows/sync/messages.js';
import type { EntraClients } from './graph/clients.js';
import { groupSchema, groupType } from './graph/groups.js';
import { graphUserSchema, isGuest, USER_SELECT } from './graph/users.js';

const memberPageSchema = z.object({ value: z.array(graphUserSchema), '@odata.nextLink': z.string().optional() });

interface Cursor {
  nextLink?: string;
  pages: number;
  members: number;
  requests: number;
}

/** The roles in an app-only token (a JWT): needed to tell withheld hidden members from none. */
function tokenRoles(token: string): string[] {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [];
  } catch {
    return [];
  }
}

export function createSyncActivities({ db, entra }: { db: Db; entra: EntraClients }) {
  return {
    /** Opens a run (idempotent: the workflow chooses the id) and lists the groups to read. */
    async beginSyncRun(connectionId: string, runId: string, trigger: string): Promise<string[]> {
      await db.insertInto('sync_runs').values({ id: runId, connection_id: connectionId, trigger }).onConflict((conflict) => conflict.column('id').doNothing()).execute();
      await db.updateTable('entra_connections').set({ sync_status: 'running' }).where('id', '=', connectionId).where('sync_status', '!=', 'needs_reconnect').execute();
      const rows = await db.selectFrom('synced_groups').select('group_id').where('connection_id', '=', connectionId).orderBy('group_id').execute();
      return rows.map((row) => row.group_id);
    },

    /**
     * Reads one group's transitive users page by page into the run's staging tables. The page
     * cursor is heartbeated, so a retry after a crash resumes where the last one stopped; pages
     * written twice are the same rows. Nothing a user sees changes until the run commits.
     */
    async syncGroup(connectionId: string, runId: string, tenantId: string, groupId: string): Promise<GroupOutcome> {
      const resumed = (activityInfo().heartbeatDetails as Cursor | undefined) ?? { pages: 0, members: 0, requests: 0 };
      const cursor: Cursor = { ...resumed };
      const record = async (outcome: GroupOutcome) => {
        await db
          .insertInto('sync_run_groups')
          .values({ run_id: runId, group_id: groupId, status: outcome.status, display_name: outcome.displayName ?? null, group_type: outcome.groupType ?? null, member_count: outcome.memberCount ?? null, error: outcome.error ?? null, graph_requests: cursor.requests })
          .onConflict((conflict) => conflict.columns(['run_id', 'group_id']).doUpdateSet({ status: outcome.status, display_name: outcome.displayName ?? null, group_type: outcome.groupType ?? null, member_count: outcome.memberCount ?? null, error: outcome.error ?? null, graph_requests: cursor.requests }))
          .execute();
        return outcome;
      };
      try {
        return await entra.call(tenantId, async (graph) => {
          // The group itself first: its current name (renames are followed) and visibility.
          let group;
          try {
            cursor.requests += 1;
            group = groupSchema.parse(await graph.api(`/groups/${groupId}`).select('id,displayName,groupTypes,mailEnabled,securityEnabled,visibility').get());
          } catch (error) {
            if ((error as { statusCode?: number }).statusCode === 404) return record({ groupId, status: 'missing', error: 'The group no longer exists in Entra.' });
            throw error;
          }
          const displayName = group.displayName ?? groupId;
          for (;;) {
            const request = cursor.nextLink
              ? graph.api(cursor.nextLink)
              : graph.api(`/groups/${groupId}/transitiveMembers/microsoft.graph.user`).header('ConsistencyLevel', 'eventual').query({ $count: 'true' }).select(USER_SELECT).top(999);
            cursor.requests += 1;
            const page = memberPageSchema.parse(await request.header('ConsistencyLevel', 'eventual').get());
            if (page.value.length > 0) {
              await db
                .insertInto('sync_staged_users')
                .values(
                  page.value.map((user) => ({
                    run_id: runId,
                    user_id: user.id,
                    display_name: user.displayName ?? null,
                    mail: user.mail ?? null,
                    user_principal_name: user.userPrincipalName ?? null,
                    user_type: user.userType ?? null,
                    account_enabled: user.accountEnabled ?? null,
                    is_guest: isGuest(user),
                  })),
                )
                .onConflict((conflict) => conflict.columns(['run_id', 'user_id']).doNothing())
                .execute();
              await db
                .insertInto('sync_staged_members')
                .values(page.value.map((user) => ({ run_id: runId, group_id: groupId, user_id: user.id })))
                .onConflict((conflict) => conflict.columns(['run_id', 'group_id', 'user_id']).doNothing())
                .execute();
            }
            cursor.pages += 1;
            cursor.members += page.value.length;
            cursor.nextLink = page['@odata.nextLink'];
            heartbeat(cursor);
            if (cursor.nextLink === undefined) break;
          }
          const staged = await db
            .selectFrom('sync_staged_members')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('run_id', '=', runId)
            .where('group_id', '=', groupId)
            .executeTakeFirstOrThrow();
          // Graph withholds hidden memberships from apps without Member.Read.Hidden, silently:
          // an empty answer then means "cannot see", never "no members".
          const hidden = (group.visibility ?? '').toLowerCase() === 'hiddenmembership';
          if (hidden && Number(staged.n) === 0 && !tokenRoles(await entra.token(tenantId)).includes('Member.Read.Hidden')) {
            return record({ groupId, status: 'failed', displayName, error: 'Hidden membership: Hook lacks Member.Read.Hidden for this group.', failureType: FailureType.GraphRefused });
          }
          return record({ groupId, status: 'ok', displayName, memberCount: Number(staged.n), groupType: groupType(group) });
        });
      } catch (error) {
        if (error instanceof ApplicationFailure && error.type === FailureType.GraphThrottled) {
          metricMeter.createCounter('hook_sync_graph_throttled', 'responses', 'Graph 429s that outlasted the client retries').add(1);
        }
        if (error instanceof ApplicationFailure && error.nonRetryable) {
          return record({ groupId, status: 'failed', error: error.message, failureType: (error.type ?? FailureType.EntraUnavailable) as GroupOutcome['failureType'] });
        }
        throw error;
      }
    },

    /** A group that failed past its retries keeps its last known members; the run notes why. */
    async recordGroupFailure(runId: string, groupId: string, error: string): Promise<void> {
      await db
        .insertInto('sync_run_groups')
        .values({ run_id: runId, group_id: groupId, status: 'failed', error })
        .onConflict((conflict) => conflict.columns(['run_id', 'group_id']).doUpdateSet({ status: 'failed', error }))
        .execute();
    },

    /**
     * Applies a run in one transaction. Groups read in full replace their memberships; failed
     * groups keep theirs. Users are upserted by Entra object id. Nobody is removed unless every
     * synced group was read in full; the mass-deletion guard holds back larger removals until an
     * admin confirms. Committing the same run twice changes nothing the second time.
     */
    async commitSyncRun(connectionId: string, runId: string, options: CommitOptions): Promise<CommitResult> {
      return db.transaction().execute(async (trx) => {
        const run = await trx.selectFrom('sync_runs').selectAll().where('id', '=', runId).forUpdate().executeTakeFirstOrThrow();
        if (run.finished_at !== null) return { usersAdded: run.users_added, usersUpdated: run.users_updated, usersRemoved: run.users_removed, groupsOk: run.groups_ok, groupsFailed: run.groups_failed, pendingRemovals: 0, status: run.status as CommitResult['status'] };
        const synced = await trx.selectFrom('synced_groups').select(['group_id', 'missing_since']).where('connection_id', '=', connectionId).execute();
        const outcomes = new Map((await trx.selectFrom('sync_run_groups').selectAll().where('run_id', '=', runId).execute()).map((row) => [row.group_id, row]));
        const now = new Date();
        const okGroups: string[] = [];
        const heldGroups: string[] = []; // failed, not read, or missing within the grace period
        for (const group of synced) {
          const outcome = outcomes.get(group.group_id);
          if (outcome?.status === 'ok') okGroups.push(group.group_id);
          else if (outcome?.status === 'missing' && group.missing_since !== null && now.getTime() - group.missing_since.getTime() >= options.missingGraceMs) okGroups.push(group.group_id);
          else heldGroups.push(group.group_id);
        }
        const syncedIds = synced.map((group) => group.group_id);

        // Users first (memberships point at them): insert new, update changed, restore returning ones.
        const upserted = await sql<{ inserted: boolean; changed: boolean }>`
          insert into directory_users as u (connection_id, user_id, display_name, mail, user_principal_name, user_type, account_enabled, is_guest, is_shared_mailbox, email_domain)
          select ${connectionId}::uuid, s.user_id, s.display_name, s.mail, s.user_principal_name, s.user_type, s.account_enabled, s.is_guest,
                 coalesce(s.account_enabled = false and s.mail is not null, false),
                 lower(split_part(coalesce(s.mail, s.user_principal_name), '@', 2))
          from sync_staged_users s where s.run_id = ${runId}::uuid
          on conflict (connection_id, user_id) do update set
            display_name = excluded.display_name, mail = excluded.mail, user_principal_name = excluded.user_principal_name,
            user_type = excluded.user_type, account_enabled = excluded.account_enabled, is_guest = excluded.is_guest,
            is_shared_mailbox = excluded.is_shared_mailbox, email_domain = excluded.email_domain,
            removed_at = null, removed_reason = null, updated_at = now()
          where (u.display_name, u.mail, u.user_principal_name, u.user_type, u.account_enabled, u.removed_at)
            is distinct from (excluded.display_name, excluded.mail, excluded.user_principal_name, excluded.user_type, excluded.account_enabled, null)
          returning (xmax = 0) as inserted, true as changed`.execute(trx);
        const usersAdded = upserted.rows.filter((row) => row.inserted).length;
        const usersUpdated = upserted.rows.length - usersAdded;

        if (okGroups.length > 0) {
          await trx.deleteFrom('group_memberships').where('connection_id', '=', connectionId).where('group_id', 'in', okGroups).execute();
          await sql`insert into group_memberships (connection_id, group_id, user_id)
                    select ${connectionId}::uuid, group_id, user_id from sync_staged_members
                    where run_id = ${runId}::uuid and group_id in (${sql.join(okGroups)})
                    on conflict do nothing`.execute(trx);
        }
        // Groups no longer synced drop their memberships; their members go below unless another group has them.
        await trx
          .deleteFrom('group_memberships')
          .where('connection_id', '=', connectionId)
          .where((eb) => (syncedIds.length === 0 ? eb.lit(true) : eb('group_id', 'not in', syncedIds)))
          .execute();

        // Removal candidates: active users in no synced group any more.
        const candidates = await trx
          .selectFrom('directory_users as u')
          .select('u.user_id')
          .where('u.connection_id', '=', connectionId)
          .where('u.removed_at', 'is', null)
          .where((eb) => eb.not(eb.exists(eb.selectFrom('group_memberships as m').select('m.user_id').whereRef('m.connection_id', '=', 'u.connection_id').whereRef('m.user_id', '=', 'u.user_id'))))
          .execute();
        const active = await trx.selectFrom('directory_users').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', connectionId).where('removed_at', 'is', null).executeTakeFirstOrThrow();
        let usersRemoved = 0;
        let pendingRemovals = 0;
        let status: CommitResult['status'] = heldGroups.length > 0 ? 'partial' : 'ok';
        if (candidates.length > 0 && heldGroups.length === 0) {
          const share = candidates.length / Math.max(1, Number(active.n));
          if (share > options.maxRemovalShare && !options.confirmRemovals) {
            pendingRemovals = candidates.length;
            status = 'awaiting_confirmation';
          } else {
            const removed = await trx
              .updateTable('directory_users')
              .set({ removed_at: now, removed_reason: 'In no synced group', updated_at: now })
              .where('connection_id', '=', connectionId)
              .where('user_id', 'in', candidates.map((row) => row.user_id))
              .executeTakeFirst();
            usersRemoved = Number(removed.numUpdatedRows);
          }
        }

        for (const groupId of syncedIds) {
          const outcome = outcomes.get(groupId);
          if (!outcome) continue;
          await trx
            .updateTable('synced_groups')
            .set({
              ...(outcome.display_name ? { display_name: outcome.display_name } : {}),
              ...(outcome.status === 'ok' ? { member_count: outcome.member_count, group_type: outcome.group_type, last_synced_at: now, last_error: null, missing_since: null } : {}),
              ...(outcome.status === 'failed' ? { last_error: outcome.error } : {}),
              ...(outcome.status === 'missing' ? { last_error: outcome.error, missing_since: sql<Date>`coalesce(missing_since, now())` } : {}),
            })
            .where('connection_id', '=', connectionId)
            .where('group_id', '=', groupId)
            .execute();
        }

        const groupsOk = okGroups.length;
        const groupsFailed = heldGroups.length;
        const graphRequests = [...outcomes.values()].reduce((sum, outcome) => sum + outcome.graph_requests, 0);
        await trx
          .updateTable('sync_runs')
          .set({ status, finished_at: now, users_added: usersAdded, users_updated: usersUpdated, users_removed: usersRemoved, groups_ok: groupsOk, groups_failed: groupsFailed, graph_requests: graphRequests, error: options.error ?? null })
          .where('id', '=', runId)
          .execute();
        await trx
          .updateTable('entra_connections')
          .set({
            sync_status: options.needsReconnect ? 'needs_reconnect' : status === 'awaiting_confirmation' ? 'awaiting_confirmation' : groupsFailed > 0 ? 'failing' : 'idle',
            status: options.needsReconnect ? 'needs_reconnect' : 'connected',
            last_sync_at: now,
            pending_removals: pendingRemovals,
          })
          .where('id', '=', connectionId)
          .execute();
        await trx.deleteFrom('sync_staged_members').where('run_id', '=', runId).execute();
        await trx.deleteFrom('sync_staged_users').where('run_id', '=', runId).execute();
        // Sync counters beside Temporal's own worker metrics (Prometheus, WORKER_METRICS_PORT).
        metricMeter.createCounter('hook_sync_users_added', 'users', 'Users added by sync runs').add(usersAdded);
        metricMeter.createCounter('hook_sync_users_removed', 'users', 'Users removed by sync runs').add(usersRemoved);
        metricMeter.createCounter('hook_sync_groups_failed', 'groups', 'Groups a sync run could not read').add(groupsFailed);
        metricMeter.createCounter('hook_sync_graph_requests', 'requests', 'Graph requests made by sync runs').add(graphRequests);
        return { usersAdded, usersUpdated, usersRemoved, groupsOk, groupsFailed, pendingRemovals, status };
      });
    },
  };
}

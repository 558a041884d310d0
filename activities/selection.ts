import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { Client as TemporalClient } from '@temporalio/client';

import { z } from 'zod';
import type { Db } from '../db/client.js';
import { sql, type Transaction } from 'kysely';
import type { Database, SampledMember, SampleFlags } from '../db/schema.js';
import { FailureType } from '../workflows/failures.js';
import type { PickerGroup } from '../workflows/group-selection/messages.js';
import { createSyncLauncher } from '../lib/sync-launcher.js';
import type { EntraClients } from './graph/clients.js';
import { firstGroups, groupType, searchGroupsByName, type GraphGroup } from './graph/groups.js';
import { memberCounts } from './graph/member-counts.js';
import { isHiddenMembership, mayReadHiddenMembers } from './graph/token-roles.js';
import { graphUserSchema, isGuest, isSharedMailbox, USER_SELECT, type GraphUser } from './graph/users.js';

export const PICKER_LIMIT = 1_000;
const SAMPLE_SIZE = 10;
/** Graph's largest page of members: one request for most groups. */
const PREVIEW_PAGE = 999;

export interface SelectionDeps {
  db: Db;
  entra: EntraClients;
  /** For handing a saved selection to the sync workflow (signal-with-start), with its settings. */
  temporal: { client: TemporalClient; taskQueue: string; sync?: { intervalMs: number; maxRemovalShare: number; missingGraceMs: number; fullReconcileMs: number } };
}

const samplePageSchema = z.object({ '@odata.count': z.number().optional(), value: z.array(graphUserSchema), '@odata.nextLink': z.string().optional() });


export function createSelectionActivities({ db, entra, temporal }: SelectionDeps) {
  const toRows = (connectionId: string, groups: GraphGroup[], counts: Map<string, number | null>, inFirstPage: boolean) =>
    groups.map((group) => ({
      connection_id: connectionId,
      group_id: group.id,
      display_name: group.displayName ?? group.id,
      group_type: groupType(group),
      visibility: group.visibility ?? null,
      member_count: counts.get(group.id) ?? null,
      in_first_page: inFirstPage,
      loaded_at: new Date(),
    }));

  return {
    /** The picker's list: the first 1,000 groups by name with user counts, stored for the page. */
    async loadGroups(connectionId: string, tenantId: string): Promise<{ groupIds: string[]; truncated: boolean }> {
      const { groups, truncated, counts } = await entra.call(tenantId, async (graph) => {
        const first = await firstGroups(graph, PICKER_LIMIT);
        return { ...first, counts: await memberCounts(graph, entra.settings.graphOrigin, first.groups.map((group) => group.id)) };
      });
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('entra_groups').where('connection_id', '=', connectionId).execute();
        for (let i = 0; i < groups.length; i += 500) {
          await trx.insertInto('entra_groups').values(toRows(connectionId, groups.slice(i, i + 500), counts, true)).execute();
        }
        await trx
          .updateTable('entra_connections')
          .set({ groups_truncated: truncated, groups_loaded_at: new Date() })
          .where('id', '=', connectionId)
          .execute();
      });
      return { groupIds: groups.map((group) => group.id), truncated };
    },

    /** Finds groups by name across the whole tenant, so groups past the first 1,000 can be chosen. */
    async searchGroups(connectionId: string, tenantId: string, query: string): Promise<PickerGroup[]> {
      const { groups, counts } = await entra.call(tenantId, async (graph) => {
        const found = await searchGroupsByName(graph, query);
        return { groups: found, counts: await memberCounts(graph, entra.settings.graphOrigin, found.map((group) => group.id)) };
      });
      if (groups.length > 0) {
        await db
          .insertInto('entra_groups')
          .values(toRows(connectionId, groups, counts, false))
          .onConflict((conflict) =>
            conflict.columns(['connection_id', 'group_id']).doUpdateSet((eb) => ({
              display_name: eb.ref('excluded.display_name'),
              member_count: eb.ref('excluded.member_count'),
              group_type: eb.ref('excluded.group_type'),
            })),
          )
          .execute();
      }
      return groups.map((group) => ({ id: group.id, displayName: group.displayName ?? group.id, type: groupType(group), memberCount: counts.get(group.id) ?? null }));
    },

    /**
     * Reads a group's user members (nested groups' included) for the preview: every page, so the
     * sample can show the members worth a look first (guests, disabled accounts, possible shared
     * mailboxes, no mailbox) with their counts, and what saving changes can be counted exactly.
     * Ten members are kept for the page; the ids of all go to preview_members. A group Graph
     * refuses (403, 404), or a hidden-membership group Hook may not read, is recorded as failed
     * rather than retried: the preview says "Could not load members".
     */
    async sampleGroup(connectionId: string, previewId: string, tenantId: string, groupId: string): Promise<'ok' | 'failed'> {
      // Hidden membership Hook may not read: Graph would answer an empty list, not an error.
      const known = await db.selectFrom('entra_groups').select('visibility').where('connection_id', '=', connectionId).where('group_id', '=', groupId).executeTakeFirst();
      if (isHiddenMembership(known?.visibility) && !(await mayReadHiddenMembers(entra, tenantId))) {
        await recordSample(db, { connectionId, previewId, groupId, status: 'failed', total: null, members: [], error: FailureType.HiddenMembership });
        return 'failed';
      }
      const users: GraphUser[] = [];
      let total: number | undefined;
      try {
        let next: string | undefined;
        do {
          const link = next;
          const page = samplePageSchema.parse(
            await entra.call(tenantId, (graph) =>
              (link ? graph.api(link) : graph.api(`/groups/${groupId}/transitiveMembers/microsoft.graph.user`).query({ $count: 'true' }).select(USER_SELECT).top(PREVIEW_PAGE))
                .header('ConsistencyLevel', 'eventual')
                .get(),
            ),
          );
          total ??= page['@odata.count'];
          users.push(...page.value);
          next = page['@odata.nextLink'];
          heartbeat(); // the preview's deadline cancels what is still reading
        } while (next);
      } catch (error) {
        if (error instanceof ApplicationFailure && error.nonRetryable) {
          await recordSample(db, { connectionId, previewId, groupId, status: 'failed', total: null, members: [], error: error.type ?? 'failed' });
          return 'failed';
        }
        throw error;
      }
      const members = users.map(sampledMember);
      const flags: SampleFlags = {
        guests: members.filter((member) => member.guest).length,
        disabled: members.filter((member) => member.disabled).length,
        sharedMailboxes: members.filter((member) => member.sharedMailbox).length,
        noMailbox: members.filter((member) => member.noMailbox).length,
      };
      await db.transaction().execute(async (trx) => {
        // Only the preview being made is kept: an earlier one of this connection is of no more use.
        // Two index ranges around this preview's rows (a `<>` would read them all, for every group).
        await trx.deleteFrom('preview_members').where('connection_id', '=', connectionId).where((eb) => eb.or([eb('preview_id', '<', previewId), eb('preview_id', '>', previewId)])).execute();
        const ids = [...new Set(users.map((user) => user.id))];
        if (ids.length > 0) {
          await sql`insert into preview_members (connection_id, preview_id, group_id, user_id)
                    select ${connectionId}::uuid, ${previewId}, ${groupId}::uuid, unnest(${ids}::uuid[]) on conflict do nothing`.execute(trx);
        }
        await recordSample(trx, { connectionId, previewId, groupId, status: 'ok', total: total ?? members.length, members: flaggedFirst(members).slice(0, SAMPLE_SIZE), error: null, flags, complete: true });
      });
      return 'ok';
    },

    /**
     * Saves the selection in one transaction, once: a retry of the same save (same saveId) finds
     * it done; a save based on an older version than the stored one is refused as stale.
     */
    async saveSelection(connectionId: string, baseVersion: number, saveId: string, groupIds: string[]): Promise<{ version: number }> {
      return db.transaction().execute(async (trx) => {
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
        await trx.deleteFrom('synced_groups').where('connection_id', '=', connectionId).execute();
        if (groupIds.length > 0) {
          await trx.insertInto('synced_groups').values(groupIds.map((id) => ({ connection_id: connectionId, group_id: id, display_name: nameOf.get(id) ?? id }))).execute();
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

/** A member as the preview shows it, with what makes it worth a look. */
function sampledMember(user: GraphUser): SampledMember {
  return {
    id: user.id,
    displayName: user.displayName ?? null,
    email: user.mail ?? user.userPrincipalName ?? null,
    guest: isGuest(user),
    disabled: user.accountEnabled === false,
    sharedMailbox: isSharedMailbox(user),
    noMailbox: !user.mail,
  };
}

/** The help page's first instruction is to look for unexpected guests or service accounts: those come first. */
export function flaggedFirst(members: SampledMember[]): SampledMember[] {
  const flagged = (member: SampledMember) => member.guest || member.disabled || member.sharedMailbox || member.noMailbox === true;
  return [...members.filter(flagged), ...members.filter((member) => !flagged(member))];
}

async function recordSample(
  db: Db | Transaction<Database>,
  sample: { connectionId: string; previewId: string; groupId: string; status: 'ok' | 'failed'; total: number | null; members: SampledMember[]; error: string | null; flags?: SampleFlags; complete?: boolean },
): Promise<void> {
  await db
    .insertInto('preview_samples')
    .values({
      connection_id: sample.connectionId,
      preview_id: sample.previewId,
      group_id: sample.groupId,
      status: sample.status,
      total: sample.total,
      members: JSON.stringify(sample.members),
      error: sample.error,
      flags: sample.flags ? JSON.stringify(sample.flags) : null,
      complete: sample.complete ?? false,
    })
    .onConflict((conflict) =>
      conflict.columns(['connection_id', 'preview_id', 'group_id']).doUpdateSet({
        status: sample.status,
        total: sample.total,
        members: JSON.stringify(sample.members),
        error: sample.error,
        flags: sample.flags ? JSON.stringify(sample.flags) : null,
        complete: sample.complete ?? false,
      }),
    )
    .execute();
}


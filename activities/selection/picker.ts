import type { Db } from '../../db/client.js';
import type { PickerGroup } from '../../workflows/group-selection/messages.js';
import type { EntraClients } from '../graph/clients.js';
import { firstGroups, groupType, searchGroupsByName, type GraphGroup } from '../graph/groups.js';
import { memberCounts } from '../graph/member-counts.js';

export const PICKER_LIMIT = 1_000;

export function createPickerActivities({ db, entra }: { db: Db; entra: EntraClients }) {
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
  };
}

import type { Client } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import type { GroupType } from '../../db/schema.js';

export const groupSchema = z.object({
  id: z.string(),
  displayName: z.string().nullable(),
  groupTypes: z.array(z.string()).default([]),
  mailEnabled: z.boolean().nullable(),
  securityEnabled: z.boolean().nullable(),
  visibility: z.string().nullable().optional(),
});
export type GraphGroup = z.infer<typeof groupSchema>;
const pageSchema = z.object({ value: z.array(groupSchema), '@odata.nextLink': z.string().optional() });

export const GROUP_SELECT = 'id,displayName,groupTypes,mailEnabled,securityEnabled,visibility';

/** Graph's group kinds as the seed names them (mail-enabled security groups count as Security). */
export function groupType(group: Pick<GraphGroup, 'groupTypes' | 'mailEnabled' | 'securityEnabled'>): GroupType {
  if (group.groupTypes.includes('Unified')) return 'microsoft365';
  if (group.securityEnabled) return 'security';
  return 'distribution';
}

/** The first `limit` groups in name order, and whether the tenant has more. */
export async function firstGroups(graph: Client, limit: number): Promise<{ groups: GraphGroup[]; truncated: boolean }> {
  const groups: GraphGroup[] = [];
  let page = pageSchema.parse(await graph.api('/groups').select(GROUP_SELECT).orderby('displayName').top(Math.min(999, limit)).get());
  for (;;) {
    groups.push(...page.value);
    const next = page['@odata.nextLink'];
    if (groups.length >= limit || next === undefined) return { groups: groups.slice(0, limit), truncated: groups.length > limit || next !== undefined };
    page = pageSchema.parse(await graph.api(next).get());
  }
}

/** Graph's `$search` on display names (needs ConsistencyLevel: eventual). */
export async function searchGroupsByName(graph: Client, query: string, limit = 50): Promise<GraphGroup[]> {
  // A phrase cannot hold a double quote or a backslash; everything else is the admin's text, and
  // the Graph SDK puts query values into the URL as they are, so `&`, `#`, `+` and `%` are
  // encoded here (else "R&D" would end the parameter and start another).
  const term = encodeURIComponent(query.replace(/["\\]/g, ' ').trim());
  const page = pageSchema.parse(
    await graph
      .api('/groups')
      .header('ConsistencyLevel', 'eventual')
      .query({ $search: `"displayName:${term}"`, $count: 'true' })
      .select(GROUP_SELECT)
      .orderby('displayName')
      .top(limit)
      .get(),
  );
  return page.value;
}

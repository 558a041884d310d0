import type { Client } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import { graphUserSchema, USER_SELECT, type GraphUser } from './users.js';

/** A direct member of a group: a user (with the properties the sync stores) or a nested group. */
export type Member = { type: 'user'; user: GraphUser } | { type: 'group'; id: string };

// Members are directoryObjects: `@odata.type` says which. Devices and contacts are not Hook users.
const directoryObjectSchema = graphUserSchema.extend({ '@odata.type': z.string().optional() });
const memberPageSchema = z.object({ value: z.array(directoryObjectSchema), '@odata.nextLink': z.string().optional() });

function asMember(object: z.infer<typeof directoryObjectSchema>): Member | undefined {
  const type = (object['@odata.type'] ?? '#microsoft.graph.user').toLowerCase();
  if (type === '#microsoft.graph.user') return { type: 'user', user: object };
  if (type === '#microsoft.graph.group') return { type: 'group', id: object.id };
  return undefined;
}

/** One page of a group's direct members (`/groups/{id}/members`), from the start or a nextLink. */
export async function directMembersPage(graph: Client, groupId: string, nextLink: string | undefined): Promise<{ members: Member[]; nextLink?: string }> {
  const request = nextLink ? graph.api(nextLink) : graph.api(`/groups/${groupId}/members`).select(USER_SELECT).top(999);
  const page = memberPageSchema.parse(await request.get());
  return { members: page.value.map(asMember).filter((member) => member !== undefined), nextLink: page['@odata.nextLink'] };
}

const memberOfPageSchema = z.object({ value: z.array(z.object({ '@odata.type': z.string().optional(), id: z.string() })), '@odata.nextLink': z.string().optional() });

/** One page of the groups a user is a direct member of (`/users/{id}/memberOf`), from the start or a nextLink. */
export async function memberOfPage(graph: Client, userId: string, nextLink: string | undefined): Promise<{ groupIds: string[]; nextLink?: string }> {
  const request = nextLink ? graph.api(nextLink) : graph.api(`/users/${userId}/memberOf`).select('id').top(999);
  const page = memberOfPageSchema.parse(await request.get());
  return { groupIds: page.value.filter((item) => (item['@odata.type'] ?? '').toLowerCase() === '#microsoft.graph.group').map((item) => item.id), nextLink: page['@odata.nextLink'] };
}

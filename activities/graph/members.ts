import { BatchRequestContent, BatchResponseContent, GraphError, type Client } from '@microsoft/microsoft-graph-client';
import { sleep } from '@temporalio/activity';
import { z } from 'zod';
import { GRAPH_MAX_RETRIES } from './clients.js';
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

export const GROUP_DELTA_SELECT = 'displayName,groupTypes,mailEnabled,securityEnabled,visibility,members';

const removedSchema = z.object({ reason: z.string().optional() });
const memberDeltaSchema = z.object({ '@odata.type': z.string().optional(), id: z.string(), '@removed': removedSchema.optional() });
export const groupDeltaSchema = z.object({
  id: z.string(),
  displayName: z.string().nullable().optional(),
  '@removed': removedSchema.optional(),
  'members@delta': z.array(memberDeltaSchema).optional(),
});
export const userDeltaSchema = graphUserSchema.extend({ '@removed': removedSchema.optional() });
const deltaPageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ value: z.array(item), '@odata.nextLink': z.string().optional(), '@odata.deltaLink': z.string().optional() });

/** A delta token Graph no longer honours: the round must start again from a full read. */
export class DeltaExpired extends Error {
  override name = 'DeltaExpired';
}

// Graph documents "a 40X with codes such as syncStateNotFound" and 410 Gone with a Location.
function isExpired(error: unknown): boolean {
  if (!(error instanceof GraphError)) return false;
  return error.statusCode === 410 || (error.statusCode === 400 && /^(syncstatenotfound|resyncrequired)$/i.test(error.code ?? ''));
}

/**
 * Follows a delta round from `link` to its deltaLink, handing each page's items to `onPage`.
 * Throws DeltaExpired when Graph wants the round restarted from scratch.
 */
export async function followDelta<T extends z.ZodType>(
  graph: Client,
  link: string,
  item: T,
  onPage: (items: Array<z.infer<T>>) => Promise<void>,
  countRequest: () => void,
): Promise<string> {
  const pageSchema = deltaPageSchema(item);
  for (let next = link; ; ) {
    countRequest();
    let body: unknown;
    try {
      body = await graph.api(next).get();
    } catch (error) {
      if (isExpired(error)) throw new DeltaExpired('the delta token expired');
      throw error;
    }
    const page = pageSchema.parse(body);
    await onPage(page.value);
    if (page['@odata.deltaLink']) return page['@odata.deltaLink'];
    if (!page['@odata.nextLink']) throw new Error('a delta page had neither a nextLink nor a deltaLink');
    next = page['@odata.nextLink'];
  }
}

/** Delta links that start "now" (`$deltatoken=latest`): taken before a full read, they catch what changes during it. */
export async function latestDeltaLinks(graph: Client, countRequest: () => void): Promise<{ groups: string; users: string }> {
  const link = async (resource: 'groups' | 'users', select: string) => {
    countRequest();
    const page = deltaPageSchema(z.unknown()).parse(await graph.api(`/${resource}/delta`).query({ $deltatoken: 'latest' }).select(select).get());
    if (!page['@odata.deltaLink']) throw new Error(`/${resource}/delta?$deltatoken=latest returned no deltaLink`);
    return page['@odata.deltaLink'];
  };
  return { groups: await link('groups', GROUP_DELTA_SELECT), users: await link('users', USER_SELECT) };
}

const BATCH_SIZE = 20;
// An item inside a $batch gets the retries any other request gets from the Graph client.
const MAX_ROUNDS = GRAPH_MAX_RETRIES + 1;

/**
 * Users by id, twenty to a `$batch` (members a delta added whom Hook has not seen yet). Throttled
 * items are resent after their Retry-After; a user that no longer exists is left out.
 */
export async function usersById(graph: Client, origin: string, ids: string[], countRequest: () => void): Promise<{ found: GraphUser[]; notYetVisible: string[] }> {
  const found: GraphUser[] = [];
  const notYetVisible: string[] = [];
  let pending = [...ids];
  for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
    const retry: string[] = [];
    let waitSeconds = 0;
    for (let i = 0; i < pending.length; i += BATCH_SIZE) {
      const chunk = pending.slice(i, i + BATCH_SIZE);
      const content = new BatchRequestContent(chunk.map((id) => ({ id, request: new Request(`${origin}/v1.0/users/${id}?$select=${USER_SELECT}`) })));
      countRequest();
      const responses = new BatchResponseContent((await graph.api('/$batch').post(await content.getContent())) as never);
      for (const id of chunk) {
        const item = responses.getResponseById(id);
        if (item?.status === 200) found.push(graphUserSchema.parse(await item.json()));
        else if (item?.status === 429 || (item?.status ?? 500) >= 500) {
          retry.push(id);
          waitSeconds = Math.max(waitSeconds, Number(item?.headers.get('Retry-After')) || 1);
        } else if (item?.status === 404) {
          // A member another read just listed: on Graph that is replication lag ("not yet"), never "gone".
          notYetVisible.push(id);
        } else {
          throw new GraphError(item?.status ?? 500, `reading user ${id} answered ${item?.status ?? 'nothing'}`);
        }
      }
    }
    pending = retry;
    if (pending.length > 0) await sleep(waitSeconds * 1000);
  }
  if (pending.length > 0) throw new GraphError(429, `${pending.length} users could not be read: throttled`);
  return { found, notYetVisible };
}

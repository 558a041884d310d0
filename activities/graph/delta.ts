import { GraphError } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import type { TenantGraph } from './clients.js';
import { graphUserSchema, USER_SELECT } from './users.js';

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
 * Follows a delta round from `link` to its deltaLink, handing each page's items to `onPage`
 * (which runs after the page's request has returned). Throws DeltaExpired when Graph wants the
 * round restarted from scratch.
 */
export async function followDelta<T extends z.ZodType>(
  graph: TenantGraph,
  link: string,
  item: T,
  onPage: (items: Array<z.infer<T>>) => Promise<void>,
  countRequest: () => void,
): Promise<string> {
  const pageSchema = deltaPageSchema(item);
  for (let next = link; ; ) {
    countRequest();
    // The expiry is told apart inside the request, before the classifier names the error.
    const page = await graph(async (client) => {
      try {
        return pageSchema.parse(await client.api(next).get());
      } catch (error) {
        if (isExpired(error)) return 'expired' as const;
        throw error;
      }
    });
    if (page === 'expired') throw new DeltaExpired('the delta token expired');
    await onPage(page.value);
    if (page['@odata.deltaLink']) return page['@odata.deltaLink'];
    if (!page['@odata.nextLink']) throw new Error('a delta page had neither a nextLink nor a deltaLink');
    next = page['@odata.nextLink'];
  }
}

/** Delta links that start "now" (`$deltatoken=latest`): taken before a full read, they catch what changes during it. */
export async function latestDeltaLinks(graph: TenantGraph): Promise<{ groups: string; users: string }> {
  const link = async (resource: 'groups' | 'users', select: string) => {
    const page = await graph(async (client) => deltaPageSchema(z.unknown()).parse(await client.api(`/${resource}/delta`).query({ $deltatoken: 'latest' }).select(select).get()));
    if (!page['@odata.deltaLink']) throw new Error(`/${resource}/delta?$deltatoken=latest returned no deltaLink`);
    return page['@odata.deltaLink'];
  };
  return { groups: await link('groups', GROUP_DELTA_SELECT), users: await link('users', USER_SELECT) };
}

import { BatchRequestContent, BatchResponseContent, GraphError } from '@microsoft/microsoft-graph-client';
import { sleep } from '@temporalio/activity';
import { GRAPH_MAX_RETRIES, type TenantGraph } from './clients.js';
import { classifyEntraError } from './errors.js';
import { graphUserSchema, USER_SELECT, type GraphUser } from './users.js';

const BATCH_SIZE = 20;
// An item inside a $batch gets the retries any other request gets from the Graph client.
const MAX_ROUNDS = GRAPH_MAX_RETRIES + 1;

type Item = { id: string; status: number; retryAfter: number; body?: unknown };

/** One `$batch` of user look-ups: each item's status, Retry-After and body. */
async function lookUp(graph: TenantGraph, origin: string, ids: string[]): Promise<Item[]> {
  return graph(async (client) => {
    const content = new BatchRequestContent(ids.map((id) => ({ id, request: new Request(`${origin}/v1.0/users/${id}?$select=${USER_SELECT}`) })));
    const responses = new BatchResponseContent((await client.api('/$batch').post(await content.getContent())) as never);
    return Promise.all(
      ids.map(async (id) => {
        const item = responses.getResponseById(id);
        const status = item?.status ?? 500;
        return { id, status, retryAfter: Number(item?.headers.get('Retry-After')) || 1, body: status === 200 ? ((await item?.json()) as unknown) : undefined };
      }),
    );
  });
}

/**
 * Users by id, twenty to a `$batch` (members a delta added whom Hook has not seen yet). Throttled
 * items are resent after their Retry-After; a member Graph answers 404 for is "not yet visible"
 * (replication lag), never "gone": another read has just listed it.
 */
export async function usersById(graph: TenantGraph, origin: string, ids: string[], countRequest: () => void): Promise<{ found: GraphUser[]; notYetVisible: string[] }> {
  const found: GraphUser[] = [];
  const notYetVisible: string[] = [];
  let pending = [...ids];
  for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
    const retry: string[] = [];
    let waitSeconds = 0;
    for (let i = 0; i < pending.length; i += BATCH_SIZE) {
      countRequest();
      for (const item of await lookUp(graph, origin, pending.slice(i, i + BATCH_SIZE))) {
        if (item.status === 200) found.push(graphUserSchema.parse(item.body));
        else if (item.status === 404) notYetVisible.push(item.id);
        else if (item.status === 429 || item.status >= 500) {
          retry.push(item.id);
          waitSeconds = Math.max(waitSeconds, item.retryAfter);
        } else throw classifyEntraError(new GraphError(item.status, `reading user ${item.id} answered ${item.status}`));
      }
    }
    pending = retry;
    if (pending.length > 0) await sleep(waitSeconds * 1000);
  }
  if (pending.length > 0) throw classifyEntraError(new GraphError(429, `${pending.length} users could not be read: throttled`));
  return { found, notYetVisible };
}

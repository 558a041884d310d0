import { BatchRequestContent, BatchResponseContent, type Client } from '@microsoft/microsoft-graph-client';
import { heartbeat, sleep } from '@temporalio/activity';

const BATCH_SIZE = 20; // Graph's limit per $batch
const CONCURRENT_BATCHES = 4;
const MAX_ROUNDS = 6;

/**
 * User member counts of many groups at about one request per 20 groups: `$count` of each
 * group's transitive users, twenty to a `$batch`, a few batches in flight. Graph throttles batch
 * items one by one (429 with Retry-After in the item); those are resent after the longest wait.
 * A group whose count cannot be had maps to null ("unknown"), never to 0.
 */
export async function memberCounts(graph: Client, origin: string, groupIds: string[]): Promise<Map<string, number | null>> {
  const counts = new Map<string, number | null>(groupIds.map((id) => [id, null]));
  let pending = [...groupIds];
  for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
    const throttled: string[] = [];
    let waitSeconds = 0;
    const batches: string[][] = [];
    for (let i = 0; i < pending.length; i += BATCH_SIZE) batches.push(pending.slice(i, i + BATCH_SIZE));
    const queue = [...batches];
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENT_BATCHES, queue.length) }, async () => {
        for (let batch = queue.shift(); batch; batch = queue.shift()) {
          const content = new BatchRequestContent(
            batch.map((id) => ({
              id,
              request: new Request(`${origin}/v1.0/groups/${id}/transitiveMembers/microsoft.graph.user/$count`, {
                headers: { ConsistencyLevel: 'eventual' },
              }),
            })),
          );
          const responses = new BatchResponseContent((await graph.api('/$batch').post(await content.getContent())) as never);
          for (const id of batch) {
            const item = responses.getResponseById(id);
            if (item?.status === 200) counts.set(id, Number(await item.text()));
            else if (item?.status === 429 || (item?.status ?? 0) >= 500) {
              throttled.push(id);
              waitSeconds = Math.max(waitSeconds, Number(item?.headers.get('Retry-After')) || 1);
            }
          }
          heartbeat({ counted: groupIds.length - pending.length + throttled.length });
        }
      }),
    );
    pending = throttled;
    if (pending.length > 0) await sleep(waitSeconds * 1000);
  }
  return counts;
}

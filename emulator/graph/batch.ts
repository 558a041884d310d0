import { z } from 'zod';
import { graphError, type GraphResponse } from './respond.js';
import type { GraphRequest, GraphService } from './service.js';

const itemSchema = z.object({
  id: z.string().min(1),
  method: z.string().min(1),
  url: z.string().min(1),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
  dependsOn: z.array(z.string()).optional(),
});
const batchSchema = z.object({ requests: z.array(itemSchema).min(1) });

export const MAX_BATCH = 20;

/**
 * JSON batching: up to 20 requests, each answered (and throttled) on its own with id, status,
 * headers (Content-Type included, which Microsoft's SDK relies on) and body; dependsOn runs an
 * item after the ones it names, and a failed dependency answers 424. Items come back in no
 * particular order, as on Graph: clients must correlate by id. The outer status is 200.
 */
export function handleBatch(
  service: GraphService,
  body: unknown,
  outerHeaders: Record<string, string | undefined>,
  baseUrl: string,
  batchSeq: number,
  random = Math.random,
): GraphResponse {
  const clientRequestId = outerHeaders['client-request-id'];
  const parsed = batchSchema.safeParse(body);
  if (!parsed.success) return graphError(400, 'BadRequest', 'Invalid batch payload format.', clientRequestId);
  const { requests } = parsed.data;
  if (requests.length > MAX_BATCH) {
    return graphError(400, 'BadRequest', `The number of batch requests exceeds the maximum of ${MAX_BATCH}.`, clientRequestId);
  }
  const ids = new Set<string>();
  for (const item of requests) {
    if (ids.has(item.id)) return graphError(400, 'BadRequest', `Batch request id '${item.id}' is not unique.`, clientRequestId);
    ids.add(item.id);
    if (/^https?:/i.test(item.url)) {
      return graphError(400, 'BadRequest', 'Batch request urls must be relative to the version root.', clientRequestId);
    }
    if (item.body !== undefined && item.headers?.['Content-Type'] === undefined && item.headers?.['content-type'] === undefined) {
      return graphError(400, 'BadRequest', `Batch request '${item.id}' has a body but no Content-Type header.`, clientRequestId);
    }
    for (const dependency of item.dependsOn ?? []) {
      if (!requests.some((other) => other.id === dependency)) {
        return graphError(400, 'BadRequest', `Batch request '${item.id}' depends on unknown request '${dependency}'.`, clientRequestId);
      }
    }
  }

  const results = new Map<string, GraphResponse>();
  const pending = [...requests];
  while (pending.length > 0) {
    const index = pending.findIndex((item) => (item.dependsOn ?? []).every((dependency) => results.has(dependency)));
    if (index === -1) return graphError(400, 'BadRequest', 'Batch requests have circular dependencies.', clientRequestId);
    const [item] = pending.splice(index, 1);
    const failedDependency = (item!.dependsOn ?? []).some((dependency) => results.get(dependency)!.status >= 400);
    if (failedDependency) {
      results.set(item!.id, graphError(424, 'FailedDependency', 'A request this one depends on failed.', clientRequestId));
      continue;
    }
    // Relative to the version root; Microsoft's SDK keeps a leading /v1.0, which Graph accepts too.
    const url = new URL(item!.url.replace(/^\/?/, '/').replace(/^\/v1\.0(?=\/)/i, ''), 'https://batch.invalid');
    const headers: GraphRequest['headers'] = { authorization: outerHeaders.authorization };
    for (const [name, value] of Object.entries(item!.headers ?? {})) headers[name.toLowerCase()] = value;
    results.set(
      item!.id,
      service.handle({ method: item!.method.toUpperCase(), path: url.pathname, query: url.searchParams, headers, body: item!.body }, baseUrl, batchSeq),
    );
  }

  const responses = requests.map((item) => {
    const result = results.get(item.id)!;
    return { id: item.id, status: result.status, headers: result.headers, body: result.status === 204 ? null : result.body };
  });
  for (let i = responses.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [responses[i], responses[j]] = [responses[j]!, responses[i]!];
  }
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: { responses } };
}

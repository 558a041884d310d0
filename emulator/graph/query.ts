import type { FilterError} from '../odata-filter.js';
import { matches, parseFilter } from '../odata-filter.js';
import { badRequest, graphError, ok, unsupportedQuery, type GraphResponse } from './respond.js';

export interface ListRequest {
  query: URLSearchParams;
  /** `ConsistencyLevel: eventual` was sent. */
  eventual: boolean;
  /** The URL of this collection without query, for nextLink (https://host/v1.0/groups). */
  collectionUrl: string;
  clientRequestId?: string;
  /** Serve an empty first page with a nextLink before the real one (a fault Graph may show). */
  emptyFirstPage?: boolean;
}

export interface ListShape<T> {
  /** @odata.context after `$metadata#`, e.g. `groups` or `directoryObjects`. */
  context: string;
  /** Entity name in Graph's messages, e.g. `Group`. */
  entity: string;
  odataType: string;
  selectable: Set<string>;
  filterable: Set<string>;
  /** The record $filter and $search look at. */
  record: (item: T) => Record<string, unknown>;
  toJson: (item: T, select: string[] | undefined) => Record<string, unknown>;
}

export const MAX_TOP = 999;
const DEFAULT_TOP = 100;

export function parseSelect(query: URLSearchParams, selectable: Set<string>, odataType: string, clientRequestId?: string) {
  const raw = query.get('$select');
  if (raw === null || raw.trim() === '') return { select: undefined };
  const select = raw.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = select.find((name) => !selectable.has(name));
  if (unknown !== undefined) {
    return { error: badRequest(`Could not find a property named '${unknown}' on type '${odataType}'.`, clientRequestId) };
  }
  return { select };
}

export function parseTop(query: URLSearchParams, clientRequestId?: string): { top: number } | { error: GraphResponse } {
  const raw = query.get('$top');
  if (raw === null) return { top: DEFAULT_TOP };
  const top = Number(raw);
  if (!Number.isInteger(top) || top < 1 || top > MAX_TOP) {
    return { error: badRequest(`Invalid page size specified: '${raw}'. Must be between 1 and ${MAX_TOP} inclusive.`, clientRequestId) };
  }
  return { top };
}

/** $skiptoken is opaque to clients: Graph's own are base64; ours carry the offset. */
export function encodeSkipToken(offset: number): string {
  return `RFNwdAoAAQ${Buffer.from(JSON.stringify({ o: offset })).toString('base64url')}`;
}

function decodeSkipToken(token: string): number | undefined {
  if (!token.startsWith('RFNwdAoAAQ')) return undefined;
  try {
    const { o } = JSON.parse(Buffer.from(token.slice(10), 'base64url').toString('utf8')) as { o: unknown };
    return typeof o === 'number' && Number.isInteger(o) && o >= 0 ? o : undefined;
  } catch {
    return undefined;
  }
}

/** `$skip` is refused on directory objects, as Graph refuses it (paging is by `$skiptoken`). */
export const SKIP_REFUSED = 'The query parameter $skip is not supported on directory objects; follow @odata.nextLink instead.';

/**
 * A collection as Graph pages it: $filter, $search, $orderby, $select, $top, $count with the
 * ConsistencyLevel rules, @odata.count on the first page only, and an https nextLink that keeps
 * every original query option plus an opaque $skiptoken.
 */
export function listResponse<T>(items: T[], shape: ListShape<T>, request: ListRequest): GraphResponse {
  const { query, eventual, clientRequestId } = request;
  const countRequested = query.get('$count')?.toLowerCase() === 'true';
  const advanced = eventual && countRequested;

  const selected = parseSelect(query, shape.selectable, shape.odataType, clientRequestId);
  if ('error' in selected) return selected.error!;
  const top = parseTop(query, clientRequestId);
  if ('error' in top) return top.error;
  if (query.has('$expand')) return badRequest('$expand is not supported by this emulator.', clientRequestId);
  if (query.has('$skip')) return badRequest(SKIP_REFUSED, clientRequestId);

  let result = items;
  const filterText = query.get('$filter');
  if (filterText !== null) {
    let parsed;
    try {
      parsed = parseFilter(filterText);
    } catch (error) {
      const property = (error as FilterError).property;
      if (property !== undefined) {
        return unsupportedQuery(
          `Unsupported or invalid query filter clause specified for property '${property}' of resource '${shape.entity}'.`,
          clientRequestId,
        );
      }
      return badRequest((error as FilterError).message, clientRequestId);
    }
    const unsupported = [...parsed.properties].find((name) => !shape.filterable.has(name));
    if (unsupported !== undefined) {
      return unsupportedQuery(
        `Unsupported or invalid query filter clause specified for property '${unsupported}' of resource '${shape.entity}'.`,
        clientRequestId,
      );
    }
    if (parsed.advanced && !advanced) {
      const operator = /endswith/i.test(filterText) ? 'endsWith' : /\bnot\b/i.test(filterText) ? 'not' : 'ne';
      return unsupportedQuery(
        `Operator '${operator}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
        clientRequestId,
      );
    }
    result = result.filter((item) => matches(parsed.filter, shape.record(item)));
  }

  const search = query.get('$search');
  if (search !== null) {
    if (!eventual) {
      return unsupportedQuery(
        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
        clientRequestId,
      );
    }
    const terms = parseSearch(search);
    if (terms === undefined) return badRequest(`Syntax error: invalid $search expression '${search}'.`, clientRequestId);
    result = result.filter((item) => {
      const record = shape.record(item);
      return terms.some(({ property, words }) => {
        const value = record[property];
        if (typeof value !== 'string') return false;
        // Graph tokenizes on spaces and punctuation and matches token prefixes.
        const tokens = value.toLowerCase().split(/[^\p{L}\p{N}]+/u);
        return words.every((word) => tokens.some((token) => token.startsWith(word)));
      });
    });
  }

  const orderBy = query.get('$orderby');
  if (orderBy !== null) {
    const [property, direction] = orderBy.trim().split(/\s+/);
    if (property !== 'displayName') return unsupportedQuery(`Order by '${property}' is not supported.`, clientRequestId);
    if (filterText !== null && !advanced) {
      return unsupportedQuery('Sorting not supported for current query.', clientRequestId);
    }
    const sign = direction?.toLowerCase() === 'desc' ? -1 : 1;
    result = [...result].sort((a, b) => {
      const left = textOf(shape.record(a).displayName);
      const right = textOf(shape.record(b).displayName);
      return sign * (left < right ? -1 : left > right ? 1 : 0);
    });
  }

  const skipToken = query.get('$skiptoken');
  const offset = skipToken === null ? 0 : decodeSkipToken(skipToken);
  if (offset === undefined) return graphError(400, 'Request_BadRequest', 'Invalid skip token.', clientRequestId);
  if (skipToken === null && request.emptyFirstPage) {
    const next = new URLSearchParams(query);
    next.set('$skiptoken', encodeSkipToken(0));
    return ok({ '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#${shape.context}`, '@odata.nextLink': `${request.collectionUrl}?${next.toString().replace(/%24/g, '$')}`, value: [] });
  }
  const page = result.slice(offset, offset + top.top);

  const body: Record<string, unknown> = {
    '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#${shape.context}${selected.select ? `(${selected.select.join(',')})` : ''}`,
  };
  if (countRequested && eventual && offset === 0 && !request.emptyFirstPage) body['@odata.count'] = result.length;
  if (offset + top.top < result.length) {
    const next = new URLSearchParams(query);
    next.set('$skiptoken', encodeSkipToken(offset + top.top));
    body['@odata.nextLink'] = `${request.collectionUrl}?${next.toString().replace(/%24/g, '$')}`;
  }
  body.value = page.map((item) => shape.toJson(item, selected.select));
  return ok(body);
}

/** `"displayName:Sales" OR "description:eu"`; a bare `"Sales"` searches displayName. */
function parseSearch(raw: string): Array<{ property: string; words: string[] }> | undefined {
  const clauses = raw.split(/\s+OR\s+/);
  const terms: Array<{ property: string; words: string[] }> = [];
  for (const clause of clauses) {
    const match = /^"(?:(\w+):)?([^"]*)"$/.exec(clause.trim());
    if (!match) return undefined;
    const words = match[2]!.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
    terms.push({ property: match[1] ?? 'displayName', words });
  }
  return terms;
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value.toLowerCase() : '';
}

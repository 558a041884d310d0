import type { TenantDirectory } from '../directory.js';
import type { DeltaExpiredAnswer } from '../faults.js';
import { FilterError, parseFilter, type Filter } from '../odata-filter.js';
import { badRequest, graphError, ok, unsupportedQuery, type GraphResponse } from './respond.js';
import { GROUP_PROPERTIES, USER_PROPERTIES, groupJson, userJson } from './serialize.js';

type Kind = 'groups' | 'users';

interface DeltaState {
  kind: Kind;
  /** Change-log position the round starts from; 0 with `initial` for a first (full) round. */
  since: number;
  /** Change-log position this round ends at (the next deltaLink's start). */
  until: number;
  initial: boolean;
  offset: number;
  select: string[] | null;
  ids: string[] | null;
  issuedAt: number;
  /** `Prefer: return=minimal` on the first call: an updated object carries only the properties that changed. */
  minimal?: boolean;
  /** The round's empty first page was served (the emptyFirstPages fault). */
  emptied?: boolean;
}

const PAGE = { groups: 100, users: 200 };
const MAX_FILTER_IDS = 50;

const encode = (state: DeltaState) => Buffer.from(JSON.stringify(state)).toString('base64url');
function decode(token: string, kind: Kind): DeltaState | undefined {
  try {
    const state = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as DeltaState;
    return state.kind === kind && typeof state.since === 'number' ? state : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `/groups/delta` and `/users/delta` over a tenant's change log: a first round lists everything
 * (groups with `members@delta`), paged by `$skiptoken`, ending in an `@odata.deltaLink`; a later
 * round from a `$deltatoken` lists what changed since, with `@removed` for what went away.
 * Options are given on the first call only and carried in the tokens. Tokens expire.
 */
export function deltaResponse(
  kind: Kind,
  tenant: TenantDirectory,
  query: URLSearchParams,
  baseUrl: string,
  headers: Record<string, string | undefined>,
  { tokenLifetimeMs, expiredAnswer = 'gone-410', emptyFirstPage = false, readsHidden = true }: { tokenLifetimeMs: number; expiredAnswer?: DeltaExpiredAnswer; emptyFirstPage?: boolean; readsHidden?: boolean },
): GraphResponse {
  const clientRequestId = headers['client-request-id'];
  // `Prefer: odata.maxpagesize=N` shrinks pages (an emulator convenience for paging tests).
  const preferred = Number(/odata\.maxpagesize=(\d+)/.exec(headers.prefer ?? '')?.[1]);
  const pageSize = Number.isInteger(preferred) && preferred > 0 ? Math.min(preferred, PAGE[kind]) : PAGE[kind];
  const now = Date.now();
  const skipToken = query.get('$skiptoken');
  const deltaToken = query.get('$deltatoken') ?? query.get('$deltaToken');
  let state: DeltaState;
  if (skipToken !== null || (deltaToken !== null && deltaToken !== 'latest')) {
    const decoded = decode((skipToken ?? deltaToken)!, kind);
    if (!decoded) return badRequest('Invalid or malformed delta token.', clientRequestId);
    if (now - decoded.issuedAt > tokenLifetimeMs) {
      const restart = `${baseUrl}/${kind}/delta`;
      const message = 'The sync state is no longer available (the delta token expired). Please resync from scratch.';
      if (expiredAnswer === 'resync-required-400') return graphError(400, 'resyncRequired', message, clientRequestId);
      if (expiredAnswer === 'sync-state-not-found-400') return graphError(400, 'syncStateNotFound', message, clientRequestId);
      return graphError(410, 'syncStateNotFound', message, clientRequestId, { Location: restart });
    }
    state = skipToken !== null ? decoded : { ...decoded, since: decoded.until, until: Math.max(decoded.until, roundEnd(kind, tenant, now)), initial: false, offset: 0, issuedAt: now };
  } else {
    let select = query.get('$select')?.split(',').map((name) => name.trim()).filter(Boolean) ?? null;
    // `$expand=members` (as in Graph's own walkthrough) asks for members@delta like `$select=members`.
    if (kind === 'groups' && select !== null && /(^|,)\s*members\b/.test(query.get('$expand') ?? '')) select = [...select, 'members'];
    const allowed = kind === 'groups' ? new Set([...GROUP_PROPERTIES, 'members']) : USER_PROPERTIES;
    const unknown = select?.find((name) => !allowed.has(name));
    if (unknown) return badRequest(`Could not find a property named '${unknown}' on type 'microsoft.graph.${kind === 'groups' ? 'group' : 'user'}'.`, clientRequestId);
    if (query.has('$top') || query.has('$orderby')) return unsupportedQuery(`$top and $orderby are not supported on ${kind} delta.`, clientRequestId);
    let ids: string[] | null = null;
    const filter = query.get('$filter');
    if (filter !== null) {
      try {
        ids = idList(parseFilter(filter).filter);
      } catch (error) {
        return unsupportedQuery(error instanceof FilterError ? error.message : 'Unsupported filter.', clientRequestId);
      }
      if (ids.length > MAX_FILTER_IDS) return unsupportedQuery(`The $filter on delta may name at most ${MAX_FILTER_IDS} ids.`, clientRequestId);
    }
    const minimal = /return=minimal/i.test(headers.prefer ?? '');
    state = { kind, since: 0, until: roundEnd(kind, tenant, now), initial: deltaToken !== 'latest', offset: 0, select, ids, issuedAt: now, ...(minimal ? { minimal } : {}) };
    if (deltaToken === 'latest') return page(kind, state, [], baseUrl);
  }

  if (emptyFirstPage && !state.emptied && state.offset === 0) return page(kind, { ...state, emptied: true }, [], baseUrl, true);
  const listed = state.initial ? snapshot(kind, tenant, state, readsHidden) : changes(kind, tenant, state, readsHidden);
  const items = kind === 'groups' ? splitLargeGroups(listed as Array<Record<string, unknown>>, tenant.tenant.settings.deltaMembersPerObject) : tenant.tenant.settings.deltaRepeatsUsers ? [...listed, ...listed] : listed;
  const slice = items.slice(state.offset, state.offset + pageSize);
  const next = state.offset + pageSize < items.length ? { ...state, offset: state.offset + pageSize } : undefined;
  return page(kind, next ?? state, slice, baseUrl, next !== undefined);
}

/** Where a round starting now ends: a users round reports nothing past a change still replicating (it comes a round late). */
const roundEnd = (kind: Kind, tenant: TenantDirectory, now: number) => (kind === 'users' ? tenant.replicatedUntil(now) : tenant.lastSeq);

function page(kind: Kind, state: DeltaState, value: unknown[], baseUrl: string, more = false): GraphResponse {
  const select = state.select ? `(${state.select.join(',')})` : '';
  const body: Record<string, unknown> = { '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#${kind}${select}` };
  if (more) body['@odata.nextLink'] = `${baseUrl}/${kind}/delta?$skiptoken=${encode(state)}`;
  else body['@odata.deltaLink'] = `${baseUrl}/${kind}/delta?$deltatoken=${encode({ ...state, offset: 0, emptied: false })}`;
  body.value = value;
  return ok(body);
}

/** `id eq 'a' or id eq 'b'` (or `id in (…)`): the only filter delta queries accept. */
function idList(filter: Filter): string[] {
  if (filter.op === 'or') return [...idList(filter.left), ...idList(filter.right)];
  if (filter.op === 'eq' && filter.property === 'id' && typeof filter.value === 'string') return [filter.value];
  if (filter.op === 'in' && filter.property === 'id') return filter.values.filter((value): value is string => typeof value === 'string');
  throw new FilterError("Delta queries filter on ids only: id eq '…' or id eq '…'.");
}

const wantsMembers = (state: DeltaState) => state.select === null || state.select.includes('members');
const selected = (state: DeltaState) => state.select?.filter((name) => name !== 'members');
const inScope = (state: DeltaState, id: string) => state.ids === null || state.ids.includes(id);

function memberRef(tenant: TenantDirectory, id: string) {
  return { '@odata.type': `#microsoft.graph.${tenant.kindOf(id) ?? 'user'}`, id };
}

/**
 * Microsoft documents no delta behaviour for hidden-membership groups read without
 * Member.Read.Hidden; the emulator does what `/members` does and withholds their members
 * (no `members@delta`), silently: the conservative reading (emulator/README.md).
 */
function groupEntry(tenant: TenantDirectory, groupId: string, state: DeltaState, members: Array<Record<string, unknown>> | undefined, readsHidden: boolean) {
  const group = tenant.groups.get(groupId)!;
  const select = selected(state);
  const entry: Record<string, unknown> = { ...groupJson(group, select && select.length > 0 ? [...select, 'id'] : undefined) };
  const withheld = !readsHidden && group.visibility?.toLowerCase() === 'hiddenmembership';
  // A group without members carries no members@delta at all.
  if (wantsMembers(state) && !withheld && members !== undefined && members.length > 0) entry['members@delta'] = members;
  return entry;
}

function snapshot(kind: Kind, tenant: TenantDirectory, state: DeltaState, readsHidden: boolean): unknown[] {
  if (kind === 'users') {
    const select = state.select && state.select.length > 0 ? [...state.select, 'id'] : undefined;
    return tenant.visibleUsers().filter((user) => inScope(state, user.id)).map((user) => userJson(user, select));
  }
  return tenant
    .sortedGroups()
    .filter((group) => inScope(state, group.id))
    .map((group) => groupEntry(tenant, group.id, state, liveMembers(tenant, group.members).map((id) => memberRef(tenant, id)), readsHidden));
}

/** Members a read can see: users in the recycle bin keep their memberships but are not listed. */
const liveMembers = (tenant: TenantDirectory, ids: string[]) => ids.filter((id) => tenant.object(id) !== undefined);

/**
 * A group whose `members@delta` does not fit one response comes as several objects with the same
 * id and properties, each with part of the members; the later parts come after other groups, on
 * later pages ("Get incremental changes for groups": paging through members in a large group —
 * the same group can show up anywhere in the nextLink sequence).
 */
function splitLargeGroups(items: Array<Record<string, unknown>>, perObject: number): Array<Record<string, unknown>> {
  const later: Array<Record<string, unknown>> = [];
  const first = items.map((item) => {
    const members = item['members@delta'] as unknown[] | undefined;
    if (members === undefined || members.length <= perObject) return item;
    for (let offset = perObject; offset < members.length; offset += perObject) later.push({ ...item, 'members@delta': members.slice(offset, offset + perObject) });
    return { ...item, 'members@delta': members.slice(0, perObject) };
  });
  return [...first, ...later.reverse()];
}

function changes(kind: Kind, tenant: TenantDirectory, state: DeltaState, readsHidden: boolean): unknown[] {
  const entries = tenant.changes.filter((change) => change.seq > state.since && change.seq <= state.until && change.objectType === (kind === 'groups' ? 'group' : 'user'));
  const touched = new Map<string, { deleted: boolean; members: Map<string, 'added' | 'removed'>; properties: Set<string> | null }>();
  // A user in the recycle bin is `@removed` with reason `changed` (restorable); one deleted for good, `deleted`.
  for (const change of entries) {
    if (!inScope(state, change.id)) continue;
    // Only properties in the round's $select are tracked: a change to others is not reported.
    const tracked = change.change !== 'updated' || change.properties === undefined || state.select === null || change.properties.some((name) => state.select!.includes(name));
    if (!tracked) continue;
    const slot = touched.get(change.id) ?? { deleted: false, members: new Map(), properties: new Set<string>() };
    if (change.change === 'updated' && change.properties !== undefined) for (const name of change.properties) slot.properties?.add(name);
    else if (change.change !== 'membersAdded' && change.change !== 'membersRemoved') slot.properties = null; // created, restored: the whole object
    if (change.change === 'deleted') slot.deleted = true;
    if (change.change === 'created') slot.deleted = false;
    for (const member of change.memberIds ?? []) slot.members.set(member, change.change === 'membersRemoved' ? 'removed' : 'added');
    // A group created or restored comes with all its members.
    if ((change.change === 'created' || change.change === 'restored') && kind === 'groups') for (const member of liveMembers(tenant, tenant.groups.get(change.id)?.members ?? [])) slot.members.set(member, 'added');
    touched.set(change.id, slot);
  }
  const result: unknown[] = [];
  for (const [id, slot] of touched) {
    const exists = kind === 'groups' ? tenant.groups.has(id) : tenant.users.has(id);
    if (slot.deleted || !exists) {
      const restorable = kind === 'users' ? tenant.deletedUsers.has(id) : tenant.deletedGroups.has(id);
      result.push({ id, '@removed': { reason: restorable ? 'changed' : 'deleted' } });
      continue;
    }
    if (kind === 'users') {
      const select = state.select && state.select.length > 0 ? [...state.select, 'id'] : undefined;
      const changed = slot.properties === null ? undefined : [...slot.properties];
      // return=minimal: an update carries the id and what changed (within $select), nothing else.
      const minimal = state.minimal && changed !== undefined ? ['id', ...changed.filter((name) => !select || select.includes(name))] : undefined;
      result.push(userJson(tenant.users.get(id)!, minimal ?? select));
      continue;
    }
    const members = [...slot.members].map(([member, how]) => (how === 'removed' ? { ...memberRef(tenant, member), '@removed': { reason: 'deleted' } } : memberRef(tenant, member)));
    result.push(groupEntry(tenant, id, state, members, readsHidden));
  }
  return result;
}

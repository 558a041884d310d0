import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { defaultFaults, latencyOf } from '../../emulator/faults.js';
import { resourceUnits } from '../../emulator/throttle.js';
import { TokenIssuer } from '../../emulator/tokens.js';
import { appToken, call, startTestEmulator } from '../support/emulator.js';

const group = (key: string) => stableId('northwind', 'group', key);
const eventual = { ConsistencyLevel: 'eventual' };

describe('emulated Graph behaves as Graph does', () => {
  let emulator: RunningEmulator;
  let token: string;
  const newToken = async () =>
    await appToken(emulator, DEMO_TENANT_ID);
  const setPermissions = (appRoles: string[]) =>
    call(emulator, `/_emulator/tenants/${DEMO_TENANT_ID}/consent`, { method: 'POST', body: { action: 'set-permissions', appId: DEMO_APP_ID, appRoles } });

  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator.close());
  beforeEach(async () => {
    Object.assign(emulator.faults, { throttling: false, budgetFactor: 1, rules: [], rate429: 0, rate503: 0, rate504: 0 });
    await setPermissions(HOOK_APP_ROLES);
    token = await newToken();
  });

  it('pages with $top, an opaque https $skiptoken that keeps the query, and @odata.count on page one only', async () => {
    const first = await call(emulator, '/v1.0/groups?$top=5&$count=true&$select=id,displayName', { token, headers: eventual });
    expect(first.json['@odata.count']).toBe(12);
    expect(first.json.value).toHaveLength(5);
    const next = new URL(first.json['@odata.nextLink'] as string);
    expect(next.protocol).toBe('https:');
    expect(next.searchParams.get('$select')).toBe('id,displayName');
    expect(next.searchParams.get('$skiptoken')).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await call(emulator, `${next.pathname}${next.search}`, { token, headers: eventual });
    expect(second.json['@odata.count']).toBeUndefined();
    expect(second.json.value).toHaveLength(5);
    expect(second.json.value.map((g: { id: string }) => g.id)).not.toContain(first.json.value[0].id);
  });

  it('refuses $top above 999 and unknown $select properties', async () => {
    expect((await call(emulator, '/v1.0/groups?$top=1000', { token })).json.error.code).toBe('Request_BadRequest');
    const select = await call(emulator, '/v1.0/groups?$select=id,shoeSize', { token });
    expect(select.status).toBe(400);
    expect(select.json.error.message).toBe("Could not find a property named 'shoeSize' on type 'microsoft.graph.group'.");
  });

  it('ignores $count=true without ConsistencyLevel, and needs it for /$count', async () => {
    const ignored = await call(emulator, '/v1.0/groups?$count=true', { token });
    expect(ignored.status).toBe(200);
    expect(ignored.json['@odata.count']).toBeUndefined();
    expect((await call(emulator, `/v1.0/groups/${group('sales')}/members/$count`, { token })).status).toBe(400);
  });

  it('filters by startswith, id lists and group type; orders by displayName', async () => {
    const byName = await call(emulator, "/v1.0/groups?$filter=startswith(displayName,'B')&$select=displayName", { token });
    expect(byName.json.value).toEqual([{ displayName: 'Berlin Office' }, { displayName: 'Board of Directors' }]);
    const byIds = await call(emulator, `/v1.0/groups?$filter=id in ('${group('sales')}','${group('finance')}')&$select=displayName`, { token });
    expect(byIds.json.value.map((g: { displayName: string }) => g.displayName).sort()).toEqual(['Finance', 'Sales']);
    const unified = await call(emulator, "/v1.0/groups?$filter=groupTypes/any(c:c eq 'Unified')&$select=displayName&$orderby=displayName", { token, headers: eventual });
    expect(unified.status).toBe(400); // $filter with $orderby is an advanced query: needs $count=true too
    const unifiedAdvanced = await call(emulator, "/v1.0/groups?$filter=groupTypes/any(c:c eq 'Unified')&$select=displayName&$orderby=displayName&$count=true", { token, headers: eventual });
    expect(unifiedAdvanced.json.value.map((g: { displayName: string }) => g.displayName)).toEqual(['Board of Directors', 'Marketing', 'People & Culture', 'Sales']);
  });

  it('lists members with @odata.type: users, nested groups, devices and contacts; transitive flattens nesting', async () => {
    const direct = await call(emulator, `/v1.0/groups/${group('all-staff')}/members?$select=id,displayName`, { token });
    const types = new Set(direct.json.value.map((member: Record<string, string>) => member['@odata.type']));
    expect(types).toEqual(new Set(['#microsoft.graph.user', '#microsoft.graph.group']));
    const transitive = await call(emulator, `/v1.0/groups/${group('all-staff')}/transitiveMembers?$top=999`, { token });
    const transitiveTypes = new Set(transitive.json.value.map((member: Record<string, string>) => member['@odata.type']));
    expect(transitiveTypes).toEqual(new Set(['#microsoft.graph.user', '#microsoft.graph.group', '#microsoft.graph.device', '#microsoft.graph.orgContact']));
    // $skip is refused on directory objects; an empty first page with a nextLink is no end.
    expect((await call(emulator, `/v1.0/groups/${group('all-staff')}/members?$skip=2`, { token })).status).toBe(400);
    emulator.faults.emptyFirstPages = true;
    try {
      const empty = await call(emulator, `/v1.0/groups/${group('all-staff')}/members?$select=id,displayName`, { token });
      expect(empty.json.value).toEqual([]);
      const rest = await call(emulator, new URL(empty.json['@odata.nextLink'] as string).pathname + new URL(empty.json['@odata.nextLink'] as string).search, { token });
      expect(rest.json.value).toEqual(direct.json.value);
    } finally {
      emulator.faults.emptyFirstPages = false;
    }
    // A cast on transitiveMembers is an advanced query: refused without ConsistencyLevel and $count=true.
    const plainCast = await call(emulator, `/v1.0/groups/${group('all-staff')}/transitiveMembers/microsoft.graph.user?$top=999`, { token });
    expect([plainCast.status, plainCast.json.error.code]).toEqual([400, 'Request_UnsupportedQuery']);
    const usersOnly = await call(emulator, `/v1.0/groups/${group('all-staff')}/transitiveMembers/microsoft.graph.user?$count=true&$top=999&$select=id,userType,accountEnabled`, { token, headers: { ConsistencyLevel: 'eventual' } });
    // The `graph.` alias Microsoft's SDKs send is the same cast.
    const alias = await call(emulator, `/v1.0/groups/${group('all-staff')}/transitiveMembers/graph.user?$count=true&$top=999&$select=id,userType,accountEnabled`, { token, headers: { ConsistencyLevel: 'eventual' } });
    expect(alias.json.value).toEqual(usersOnly.json.value);
    expect(usersOnly.json['@odata.context']).toContain('#users(id,userType,accountEnabled)');
    expect(usersOnly.json.value).toHaveLength(29); // everyone: 26 staff, the guest, the mailbox, the former employee
    expect(usersOnly.json.value.every((user: Record<string, string>) => user['@odata.type'] === '#microsoft.graph.user')).toBe(true);
  });

  it('returns userType and accountEnabled only when selected', async () => {
    const plain = await call(emulator, `/v1.0/groups/${group('sales')}/members`, { token });
    expect(plain.json.value[0]).not.toHaveProperty('accountEnabled');
    const selected = await call(emulator, `/v1.0/groups/${group('sales')}/members?$select=id,userType,accountEnabled`, { token });
    expect(selected.json.value).toContainEqual(expect.objectContaining({ userType: 'Guest', accountEnabled: true }));
    expect(selected.json.value).toContainEqual(expect.objectContaining({ userType: 'Member', accountEnabled: false }));
  });

  it('withholds hidden memberships without Member.Read.Hidden: silently, or with a 403 as the tenant setting says', async () => {
    expect((await call(emulator, `/v1.0/groups/${group('board')}/members`, { token })).json.value).toHaveLength(3);
    await setPermissions(['Organization.Read.All', 'GroupMember.Read.All', 'User.Read.All']);
    token = await newToken();
    const silent = await call(emulator, `/v1.0/groups/${group('board')}/members`, { token });
    expect(silent.status).toBe(200);
    expect(silent.json.value).toEqual([]);
    await call(emulator, `/_emulator/tenants/${DEMO_TENANT_ID}/settings`, { method: 'PATCH', body: { hiddenMembership: 'forbidden' } });
    const refused = await call(emulator, `/v1.0/groups/${group('board')}/members`, { token });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('Authorization_RequestDenied');
    await call(emulator, `/_emulator/tenants/${DEMO_TENANT_ID}/settings`, { method: 'PATCH', body: { hiddenMembership: 'silent' } });
  });

  it('without User.Read.All, user members carry only their type and id (limited information)', async () => {
    await setPermissions(['GroupMember.Read.All']);
    token = await newToken();
    const members = await call(emulator, `/v1.0/groups/${group('finance')}/members`, { token });
    expect(members.json.value[0]).toMatchObject({ '@odata.type': '#microsoft.graph.user', displayName: null, mail: null, userPrincipalName: null });
    expect(members.json.value[0].id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await call(emulator, '/v1.0/organization', { token })).status).toBe(403);
  });

  it('answers 404 Request_ResourceNotFound for a deleted group, 401 for a missing or foreign token', async () => {
    await call(emulator, `/_emulator/tenants/${DEMO_TENANT_ID}/groups/${group('new-joiners')}`, { method: 'DELETE' });
    const gone = await call(emulator, `/v1.0/groups/${group('new-joiners')}/transitiveMembers`, { token });
    expect(gone.status).toBe(404);
    expect(gone.json.error.message).toBe(`Resource '${group('new-joiners')}' does not exist or one of its queried reference-property objects are not present.`);
    expect((await call(emulator, '/v1.0/groups')).json.error.code).toBe('InvalidAuthenticationToken');
    const foreign = new TokenIssuer().issue(DEMO_TENANT_ID, DEMO_APP_ID, HOOK_APP_ROLES).token;
    expect((await call(emulator, '/v1.0/groups', { token: foreign })).status).toBe(401);
  });

  it('expires tokens after their lifetime', () => {
    const issuer = new TokenIssuer(60);
    const { token: issued } = issuer.issue(DEMO_TENANT_ID, DEMO_APP_ID, HOOK_APP_ROLES, 1_000_000);
    expect(issuer.verify(issued, 1_000_000 + 59_000)).toBeDefined();
    expect(issuer.verify(issued, 1_000_000 + 60_000)).toBeUndefined();
  });

  it('$batch: more than 20 is a 400; dependsOn runs in order and a failed dependency answers 424', async () => {
    const many = Array.from({ length: 21 }, (_, index) => ({ id: String(index), method: 'GET', url: '/groups?$top=1' }));
    expect((await call(emulator, '/v1.0/$batch', { method: 'POST', token, body: { requests: many } })).status).toBe(400);
    const chained = await call(emulator, '/v1.0/$batch', {
      method: 'POST',
      token,
      body: {
        requests: [
          { id: 'a', method: 'GET', url: `/groups/${stableId('missing')}` },
          { id: 'b', method: 'GET', url: '/organization', dependsOn: ['a'] },
          { id: 'c', method: 'GET', url: `/groups/${group('sales')}/members/$count`, headers: eventual },
        ],
      },
    });
    const byId = Object.fromEntries((chained.json.responses as Array<{ id: string; status: number; body: unknown; headers: Record<string, string> }>).map((item) => [item.id, item]));
    expect(byId.a!.status).toBe(404);
    expect(byId.b!.status).toBe(424);
    expect(byId.c).toMatchObject({ status: 200, body: '7', headers: { 'Content-Type': 'text/plain' } });
  });

  it('answers after its latency: per request, more per $batch item, within the jitter either way', async () => {
    expect(latencyOf({ ...defaultFaults(), latencyMs: 100, latencyPerBatchItemMs: 20, latencyJitterMs: 10 }, 5, () => 0)).toBe(190);
    expect(latencyOf({ ...defaultFaults(), latencyMs: 100, latencyPerBatchItemMs: 20, latencyJitterMs: 10 }, 5, () => 1)).toBe(210);
    expect(latencyOf({ ...defaultFaults(), latencyMs: 5, latencyJitterMs: 50 }, 0, () => 0)).toBe(0);
    Object.assign(emulator.faults, { latencyMs: 150, latencyPerBatchItemMs: 100, latencyJitterMs: 0 });
    try {
      const timed = async (request: Promise<unknown>) => ((started) => request.then(() => performance.now() - started))(performance.now());
      const single = await timed(call(emulator, '/v1.0/organization', { token }));
      const requests = Array.from({ length: 4 }, (_, index) => ({ id: String(index), method: 'GET', url: '/organization' }));
      const batch = await timed(call(emulator, '/v1.0/$batch', { method: 'POST', token, body: { requests } }));
      expect(single).toBeGreaterThanOrEqual(149);
      expect(batch).toBeGreaterThanOrEqual(549);
    } finally {
      Object.assign(emulator.faults, { latencyMs: 0, latencyPerBatchItemMs: 0 });
    }
  });

  it('throttles by resource units per app and tenant: 429 with Retry-After, per item inside $batch', async () => {
    // transitiveMembers costs 5, $select takes 1 off: 4 units. A budget of 35 units per 10 s (factor 0.01 of S).
    expect(resourceUnits({ path: `/groups/x/transitiveMembers`, hasSelect: true, hasExpand: false, top: 999 })).toBe(4);
    expect(resourceUnits({ path: `/groups/x/members`, hasSelect: false, hasExpand: false, top: 10 })).toBe(2);
    expect(resourceUnits({ path: '/users', hasSelect: false, hasExpand: false, top: undefined })).toBe(2);
    expect(resourceUnits({ path: '/organization', hasSelect: true, hasExpand: false, top: 5 })).toBe(1);
    Object.assign(emulator.faults, { throttling: true, budgetFactor: 0.01 });
    emulator.throttle.reset();
    const requests = Array.from({ length: 12 }, (_, index) => ({ id: String(index), method: 'GET', url: `/groups/${group('engineering')}/transitiveMembers?$select=id` }));
    const batch = await call(emulator, '/v1.0/$batch', { method: 'POST', token, body: { requests } });
    expect(batch.status).toBe(200);
    const statuses = (batch.json.responses as Array<{ status: number; headers: Record<string, string> }>).map((item) => item.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(8); // 35 units / 4 per request
    const throttled = (batch.json.responses as Array<{ status: number; headers: Record<string, string> }>).find((item) => item.status === 429)!;
    expect(Number(throttled.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    const direct = await call(emulator, `/v1.0/groups/${group('engineering')}/transitiveMembers?$select=id`, { token });
    expect(direct.status).toBe(429);
    expect(direct.headers.get('x-ms-throttle-scope')).toBe(`Tenant_Application/ReadWrite/${DEMO_APP_ID}/${DEMO_TENANT_ID}`);
  });

  it('injects 503s and 504s at the configured rates', async () => {
    Object.assign(emulator.faults, { rate503: 1 });
    const unavailable = await call(emulator, '/v1.0/organization', { token });
    expect(unavailable.status).toBe(503);
    expect(unavailable.json.error.code).toBe('ServiceUnavailable');
    Object.assign(emulator.faults, { rate503: 0, rate504: 1 });
    expect((await call(emulator, '/v1.0/organization', { token })).status).toBe(504);
  });
});

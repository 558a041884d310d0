import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_APP_ID, DEMO_APP_SECRET, DEMO_TENANT_ID } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { projectRoot } from '../../lib/paths.js';
import { call, startTestEmulator } from '../support/emulator.js';
import { expectShape } from '../support/shape.js';

// A copy of ../shared/graph-fixtures (Microsoft's own examples; see its README for sources).
const fixturesDir = path.join(projectRoot, 'tests', 'fixtures', 'graph');
const fixture = (name: string) => JSON.parse(readFileSync(path.join(fixturesDir, name), 'utf8')) as unknown;


const group = (key: string) => stableId('northwind', 'group', key);
const eventual = { ConsistencyLevel: 'eventual' };

// Every fixture in ../shared/graph-fixtures is either compared here or listed as not served, so a
// new fixture makes this test fail until someone decides which it is.
const NOT_SERVED: Record<string, string> = {
  'group-list-dynamic-security.response.json': 'dynamic membership rules are not emulated',
  'group-list-expand-members.response.json': '$expand is not emulated (the sync does not use it)',
  'batch.request.json': 'a request body, used as input below',
  'batch-dependson.request.json': 'a request body with placeholder urls',
  ...Object.fromEntries(
    readdirSync(fixturesDir)
      .filter((name) => /^(group|user)-delta/.test(name))
      .map((name) => [name, 'compared in tests/emulator/delta.test.ts']),
  ),
};

describe('emulator responses have the shape of Microsoft’s examples', () => {
  let emulator: RunningEmulator;
  let token: string;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    const response = await call(emulator, `/${DEMO_TENANT_ID}/oauth2/v2.0/token`, {
      method: 'POST',
      form: { client_id: DEMO_APP_ID, client_secret: DEMO_APP_SECRET, scope: 'https://graph.microsoft.com/.default', grant_type: 'client_credentials' },
    });
    token = response.json.access_token as string;
  });
  afterAll(() => emulator.close());

  // [fixture, request, expected content type, expected status]
  const graphCases: Array<[string, string, Record<string, string>, string, number]> = [
    ['organization-list.response.json', '/v1.0/organization', {}, 'application/json', 200],
    ['organization-get.response.json', `/v1.0/organization/${DEMO_TENANT_ID}`, {}, 'application/json', 200],
    ['group-list.response.json', '/v1.0/groups', {}, 'application/json', 200],
    ['group-list-count.response.json', '/v1.0/groups?$count=true&$select=id,displayName', eventual, 'application/json', 200],
    ['group-list-startswith-top1.response.json', "/v1.0/groups?$filter=startswith(displayName, 'S')&$count=true&$top=1&$orderby=displayName", eventual, 'application/json', 200],
    ['group-list-search.response.json', '/v1.0/groups?$search="displayName:Sales" OR "description:nested"&$orderby=displayName&$count=true', eventual, 'application/json', 200],
    ['group-list-members.response.json', `/v1.0/groups/${group('sales')}/members`, {}, 'application/json', 200],
    ['group-list-members-cast-user-search.response.json', `/v1.0/groups/${group('sales')}/members/microsoft.graph.user?$count=true&$orderby=displayName&$search="displayName:Da"&$select=displayName,id`, eventual, 'application/json', 200],
    ['group-list-transitivemembers.response.json', `/v1.0/groups/${group('all-staff')}/transitiveMembers`, {}, 'application/json', 200],
    ['group-list-transitivemembers-cast-user-search.response.json', `/v1.0/groups/${group('all-staff')}/transitiveMembers/microsoft.graph.user?$count=true&$orderBy=displayName&$search="displayName:So"&$select=displayName,id`, eventual, 'application/json', 200],
    ['users-list-app-only.response.json', '/v1.0/users', {}, 'application/json', 200],
    ['error-count-without-consistencylevel.response.json', '/v1.0/users/$count', {}, 'application/json', 400],
    ['error-search-without-consistencylevel.response.json', '/v1.0/groups?$search="displayName:Sales"', {}, 'application/json', 400],
    ['error-endswith-without-advanced-query.response.json', "/v1.0/groups?$filter=endswith(mail,'northwind.example')", {}, 'application/json', 400],
    ['error-unsupported-filter-property.response.json', '/v1.0/groups?$filter=createdDateTime ge 2021-11-01&$count=true', eventual, 'application/json', 400],
    ['error.response.json', `/v1.0/groups/${stableId('gone')}`, {}, 'application/json', 404],
  ];

  it.each(graphCases)('%s', async (name, request, headers, contentType, status) => {
    const response = await call(emulator, request, { token, headers });
    expect(response.status).toBe(status);
    expect(response.type.startsWith(contentType)).toBe(true);
    expectShape(response.json, fixture(name));
    // The specific error fixtures also fix Graph's code and message; error.response.json is the generic shape.
    if (name.startsWith('error-')) {
      const { error } = fixture(name) as { error: { code: string; message: string } };
      expect(response.json.error).toMatchObject({ code: error.code, message: error.message });
    }
  });

  it('error-insufficient-privileges.response.json: Graph refuses an app whose permissions were removed', async () => {
    await call(emulator, `/_emulator/tenants/${DEMO_TENANT_ID}/consent`, { method: 'POST', body: { action: 'set-permissions', appId: DEMO_APP_ID, appRoles: [] } });
    const fresh = await call(emulator, `/${DEMO_TENANT_ID}/oauth2/v2.0/token`, {
      method: 'POST',
      form: { client_id: DEMO_APP_ID, client_secret: DEMO_APP_SECRET, scope: 'https://graph.microsoft.com/.default', grant_type: 'client_credentials' },
    });
    const response = await call(emulator, '/v1.0/groups', { token: fresh.json.access_token as string });
    expect(response.status).toBe(403);
    expectShape(response.json, fixture('error-insufficient-privileges.response.json'));
    expect(response.json.error.message).toBe('Insufficient privileges to complete the operation.');
    await call(emulator, `/_emulator/tenants/${DEMO_TENANT_ID}/consent`, { method: 'POST', body: { action: 'grant', appId: DEMO_APP_ID } });
    const again = await call(emulator, `/${DEMO_TENANT_ID}/oauth2/v2.0/token`, {
      method: 'POST',
      form: { client_id: DEMO_APP_ID, client_secret: DEMO_APP_SECRET, scope: 'https://graph.microsoft.com/.default', grant_type: 'client_credentials' },
    });
    token = again.json.access_token as string;
  });

  it('throttled-429.response.json: a 429 with Retry-After', async () => {
    await call(emulator, '/_emulator/faults', { method: 'PATCH', body: { rules: [{ path: '^/organization', status: 429, times: 1, retryAfterSeconds: 10 }] } });
    const response = await call(emulator, '/v1.0/organization', { token });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('10');
    expect(response.type.startsWith('application/json')).toBe(true);
    expectShape(response.json, fixture('throttled-429.response.json'));
    expect(response.json.error.innerError).toMatchObject({ code: '429', status: '429', message: 'Please retry after' });
  });

  it('batch.response.json: per-item id, status, headers and body', async () => {
    const response = await call(emulator, '/v1.0/$batch', {
      method: 'POST',
      token,
      body: { requests: [{ id: '1', method: 'GET', url: '/groups?$top=1' }, { id: '2', method: 'GET', url: `/groups/${stableId('gone')}` }] },
    });
    expect(response.status).toBe(200);
    expectShape(response.json, { responses: [{ id: '1', status: 200, body: {} }] });
    for (const item of response.json.responses as Array<{ headers: Record<string, string> }>) {
      expect(item.headers['Content-Type']).toMatch(/^application\/json/);
    }
  });

  it('token-client-credentials.response.json and token-error-invalid-scope.response.json', async () => {
    const form = { client_id: DEMO_APP_ID, client_secret: DEMO_APP_SECRET, grant_type: 'client_credentials' };
    const good = await call(emulator, `/${DEMO_TENANT_ID}/oauth2/v2.0/token`, { method: 'POST', form: { ...form, scope: 'https://graph.microsoft.com/.default' } });
    expect(good.status).toBe(200);
    expectShape(good.json, fixture('token-client-credentials.response.json'));
    expect(good.json.expires_in).toBe(3599);
    const bad = await call(emulator, `/${DEMO_TENANT_ID}/oauth2/v2.0/token`, { method: 'POST', form: { ...form, scope: 'https://graph.microsoft.com/User.Read' } });
    expect(bad.status).toBe(400);
    expectShape(bad.json, fixture('token-error-invalid-scope.response.json'));
    expect(bad.json.error).toBe('invalid_scope');
  });

  it('openid-configuration-common-v2.response.json and aad-instance-discovery.response.json', async () => {
    const openid = await call(emulator, '/common/v2.0/.well-known/openid-configuration');
    expectShape(openid.json, fixture('openid-configuration-common-v2.response.json'));
    const discovery = await call(emulator, '/common/discovery/instance?api-version=1.1');
    expectShape(discovery.json, fixture('aad-instance-discovery.response.json'));
  });

  it('$count segments answer text/plain, as in the docs (no fixture: not JSON)', async () => {
    const response = await call(emulator, `/v1.0/groups/${group('sales')}/members/$count`, { token, headers: eventual });
    expect(response.type).toBe('text/plain');
    expect(response.text).toBe('7'); // five people, a guest and the shared mailbox
  });

  it('covers every fixture or says why not', () => {
    const covered = new Set([
      ...graphCases.map(([name]) => name),
      'error-insufficient-privileges.response.json',
      'throttled-429.response.json',
      'batch.response.json',
      'token-client-credentials.response.json',
      'token-error-invalid-scope.response.json',
      'openid-configuration-common-v2.response.json',
      'aad-instance-discovery.response.json',
      ...Object.keys(NOT_SERVED),
    ]);
    const fixtures = readdirSync(fixturesDir).filter((name) => name.endsWith('.json'));
    expect(fixtures.filter((name) => !covered.has(name))).toEqual([]);
  });
});

import { BatchRequestContent, BatchResponseContent, GraphError, PageIterator } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_TENANT_ID } from '../../emulator/demo.js';
import { generateTenant } from '../../emulator/generate.js';
import { stableId } from '../../emulator/ids.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { DEMO_APP_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import { microsoftClients, startTestEmulator } from '../support/emulator.js';

// 2,100 users in one group, all found by one $search word: three pages of 999.
const PAGED_USERS = Array.from({ length: 2_100 }, (_, index) => ({
  id: stableId('paged', index),
  displayName: `Member ${index}`,
  userPrincipalName: `member${index}@paged.example`,
  mail: `member${index}@paged.example`,
}));
const PAGED_TENANT = {
  id: stableId('paged tenant'),
  displayName: 'Paged Co',
  verifiedDomains: [{ name: 'paged.example', isDefault: true }],
  servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
  users: PAGED_USERS,
  groups: [{ id: stableId('paged group'), displayName: 'Everyone', mailEnabled: false, securityEnabled: true, members: PAGED_USERS.map((user) => user.id) }],
};

const BIG_TENANT = generateTenant({
  seed: 7,
  displayName: 'Paging Co',
  domain: 'paging.example',
  users: 2_500,
  groups: 250,
  membersPerGroup: 1_200,
  nestedShare: 0.1,
  guestShare: 0.05,
  disabledShare: 0.05,
  sharedMailboxShare: 0.01,
  hiddenShare: 0,
  servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
});

describe('Microsoft’s own clients, unmodified, against the emulator', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator({ tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }]), BIG_TENANT, PAGED_TENANT] });
  });
  afterAll(() => emulator.close());
  beforeEach(() => {
    emulator.faults.throttling = false;
    emulator.faults.rules = [];
    emulator.tokens.lifetimeSeconds = 3599;
  });
  const tokenRequests = () => emulator.log.since().filter((entry) => entry.host === 'login' && entry.path.endsWith('/token')).length;

  it('@azure/msal-node acquires a token, serves it from its cache, and renews it inside the 300 s window', async () => {
    const { token } = microsoftClients(emulator, DEMO_TENANT_ID);
    const before = tokenRequests();
    const first = await token();
    expect(await token()).toBe(first);
    expect(tokenRequests() - before).toBe(1);

    // MSAL treats a token as expired 300 s before it does: a 299-second token is renewed on every call.
    emulator.tokens.lifetimeSeconds = 299;
    const short = microsoftClients(emulator, DEMO_TENANT_ID);
    const beforeShort = tokenRequests();
    const a = await short.token();
    const b = await short.token();
    expect(a).not.toBe(b);
    expect(tokenRequests() - beforeShort).toBe(2);
  });

  it('msal-node surfaces the token endpoint’s errors with their AADSTS codes', async () => {
    const wrongSecret = microsoftClients(emulator, DEMO_TENANT_ID, 'not-the-secret-at-all');
    await expect(wrongSecret.token()).rejects.toMatchObject({ errorCode: 'invalid_client', errorMessage: expect.stringContaining('AADSTS7000215') });
    const otherApp = microsoftClients(emulator, DEMO_TENANT_ID, 'whatever-secret', stableId('unknown app'));
    await expect(otherApp.token()).rejects.toMatchObject({ errorCode: 'unauthorized_client', errorMessage: expect.stringContaining('AADSTS700016') });
    // An unknown tenant already fails MSAL's endpoint discovery (its OpenID configuration is a 400, as on Microsoft).
    const noTenant = microsoftClients(emulator, stableId('no such tenant'));
    await expect(noTenant.token()).rejects.toMatchObject({ errorCode: 'endpoints_resolution_error' });
  });

  it('PageIterator walks 999-member pages, resending ConsistencyLevel on every page', async () => {
    const { graph } = microsoftClients(emulator, PAGED_TENANT.id);
    const groupId = PAGED_TENANT.groups[0]!.id;
    const first = (await graph
      .api(`/groups/${groupId}/transitiveMembers/microsoft.graph.user`)
      .header('ConsistencyLevel', 'eventual')
      .query({ $count: 'true', $search: '"displayName:member"' })
      .select('id,displayName,mail,userType,accountEnabled')
      .top(999)
      .get()) as { '@odata.count': number; '@odata.nextLink'?: string; value: unknown[] };
    expect(first['@odata.nextLink']).toMatch(/^https:\/\//);
    const ids = new Set<string>();
    const iterator = new PageIterator(graph, first, (user: { id: string }) => (ids.add(user.id), true), {
      headers: { ConsistencyLevel: 'eventual' },
    });
    await iterator.iterate();
    expect(first['@odata.count']).toBe(2_100);
    expect(ids.size).toBe(2_100);
    // Pages after the first carry $search, which Graph refuses without the header: all were 200.
    const pages = emulator.log.since().filter((entry) => entry.path.includes(`/groups/${groupId}/transitiveMembers`));
    expect(pages).toHaveLength(3);
    expect(pages.every((entry) => entry.status === 200)).toBe(true);
  });

  it('BatchRequestContent and BatchResponseContent: 20 member counts in one request', async () => {
    const { graph } = microsoftClients(emulator, BIG_TENANT.id);
    const groups = BIG_TENANT.groups!.slice(0, 20);
    const content = new BatchRequestContent(
      groups.map((group, index) => ({
        id: String(index),
        request: new Request(`${emulator.httpsUrl}/v1.0/groups/${group.id}/transitiveMembers/$count`, { headers: { ConsistencyLevel: 'eventual' } }),
      })),
    );
    expect(() => content.addRequest({ id: 'too-many', request: new Request(`${emulator.httpsUrl}/v1.0/groups`) })).toThrow();
    const responses = new BatchResponseContent(await graph.api('/$batch').post(await content.getContent()));
    for (const [index, group] of groups.entries()) {
      const item = responses.getResponseById(String(index));
      expect(item.status).toBe(200);
      const expected = emulator.directory.findTenant(BIG_TENANT.id)!.transitiveMembers(emulator.directory.findTenant(BIG_TENANT.id)!.groups.get(group.id)!).length;
      expect(Number(await item.text())).toBe(expected);
    }
  });

  it('the Graph client retries a 429 only after its Retry-After has passed', async () => {
    const { graph } = microsoftClients(emulator, DEMO_TENANT_ID);
    emulator.faults.rules = [{ path: '^/organization', status: 429, times: 1, retryAfterSeconds: 1 }];
    const organization = (await graph.api('/organization').get()) as { value: Array<{ displayName: string }> };
    expect(organization.value[0]!.displayName).toBe('Northwind Outfitters');
    const calls = emulator.log.since().filter((entry) => entry.path.startsWith('/organization'));
    const [throttled, retried] = calls.slice(-2);
    expect(throttled).toMatchObject({ status: 429, retryAfterSeconds: 1 });
    expect(retried!.status).toBe(200);
    expect(retried!.t - throttled!.t).toBeGreaterThanOrEqual(1_000);
  });

  it('GraphError carries Graph’s status, code and request id', async () => {
    const { graph } = microsoftClients(emulator, DEMO_TENANT_ID);
    const error = (await graph.api(`/groups/${stableId('deleted group')}`).get().catch((caught: unknown) => caught)) as GraphError;
    expect(error).toBeInstanceOf(GraphError);
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('Request_ResourceNotFound');
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TENANT_ID } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import { groupSchema, userSchema } from '../../emulator/model.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { projectRoot } from '../../lib/paths.js';
import { appToken, call, startTestEmulator } from '../support/emulator.js';
import { expectShape } from '../support/shape.js';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(projectRoot, 'tests', 'fixtures', 'graph', name), 'utf8')) as unknown;
const group = (key: string) => stableId('northwind', 'group', key);
const user = (name: string) => stableId('northwind', 'user', name);


describe('delta queries: /groups/delta and /users/delta', () => {
  let emulator: RunningEmulator;
  let token: string;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    token = await appToken(emulator, DEMO_TENANT_ID);
  });
  afterAll(() => emulator.close());

  const get = (url: string, headers: Record<string, string> = {}) => {
    const target = new URL(url, emulator.httpsUrl);
    return call(emulator, `${target.pathname}${target.search}`, { token, headers });
  };
  /** Follows nextLinks to the deltaLink; returns every page. */
  async function round(first: string, headers: Record<string, string> = {}) {
    const pages = [];
    for (let url: string | undefined = first; url; ) {
      const page = await get(url, headers);
      expect(page.status).toBe(200);
      pages.push(page.json);
      url = page.json['@odata.nextLink'] as string | undefined;
    }
    return pages;
  }
  const small = { Prefer: 'odata.maxpagesize=5' };

  it('group rounds have the shape of Graph’s walkthrough: pages, deltaLink, no changes, then members@delta with @removed', async () => {
    const pages = await round('/v1.0/groups/delta?$select=displayName,description&$expand=members', small);
    expect(pages.length).toBe(3); // 12 groups in pages of 5
    expectShape(pages[0], fixture('group-delta-round-1-initial.response.json'));
    expectShape(pages[1], fixture('group-delta-round-2-nextlink.response.json'));
    expectShape(pages[2], fixture('group-delta-round-3-final-deltalink.response.json'));
    expect(pages.flatMap((page) => page.value).length).toBe(12);
    expect(pages[2]['@odata.deltaLink']).toMatch(/^https:\/\/.*\/v1\.0\/groups\/delta\?\$deltatoken=/);

    const unchanged = await get(pages[2]['@odata.deltaLink'] as string);
    expectShape(unchanged.json, fixture('group-delta-round-4-deltalink-nochanges.response.json'));
    expect(unchanged.json.value).toEqual([]);

    const tenant = emulator.directory.findTenant(DEMO_TENANT_ID)!;
    tenant.removeMembers(group('finance'), [user('Noah Fischer')]);
    tenant.addMembers(group('finance'), [user('Ben Carter')]);
    const changed = await get(unchanged.json['@odata.deltaLink'] as string);
    expectShape(changed.json, fixture('group-delta-round-5-deltalink-changes.response.json'));
    expect(changed.json.value).toHaveLength(1);
    expect(changed.json.value[0].id).toBe(group('finance'));
    expect(changed.json.value[0]['members@delta']).toEqual([
      { '@odata.type': '#microsoft.graph.user', id: user('Noah Fischer'), '@removed': { reason: 'deleted' } },
      { '@odata.type': '#microsoft.graph.user', id: user('Ben Carter') },
    ]);
  });

  it('a first group round without $select lists full groups with members@delta; a rename shows with its selected properties', async () => {
    const first = await get('/v1.0/groups/delta', small);
    expectShape(first.json, fixture('group-delta.response.json'));
    const pages = await round('/v1.0/groups/delta?$select=displayName,description,mailNickname');
    emulator.directory.findTenant(DEMO_TENANT_ID)!.updateGroup(group('london'), { displayName: 'London HQ' });
    const changed = await get(pages.at(-1)['@odata.deltaLink'] as string);
    // These two docs samples are mid-round pages (they carry a nextLink): compare their items.
    expectShape(changed.json.value, (fixture('group-delta-select.response.json') as { value: unknown }).value);
    expectShape(changed.json.value, (fixture('group-delta-select-minimal.response.json') as { value: unknown }).value);
    expect(changed.json.value).toEqual([expect.objectContaining({ id: group('london'), displayName: 'London HQ' })]);
    expect(changed.json.value[0]).not.toHaveProperty('members@delta');
  });

  it('user rounds: selected properties, then changes and @removed for deleted users', async () => {
    const first = await get('/v1.0/users/delta', small);
    expectShape(first.json, fixture('user-delta.response.json'));
    const pages = await round('/v1.0/users/delta?$select=displayName,givenName,surname', small);
    expectShape(pages[0], fixture('user-delta-round-1-initial.response.json'));
    expectShape(pages[1], fixture('user-delta-round-2-nextlink.response.json'));
    expectShape(pages.at(-1), fixture('user-delta-round-3-final-deltalink.response.json'));
    expect(new Set(pages.flatMap((page) => page.value.map((item: { id: string }) => item.id))).size).toBe(29);
    const unchanged = await get(pages.at(-1)['@odata.deltaLink'] as string);
    expectShape(unchanged.json, fixture('user-delta-round-4-deltalink-nochanges.response.json'));

    const tenant = emulator.directory.findTenant(DEMO_TENANT_ID)!;
    tenant.updateUser(user('Ravi Patel'), { displayName: 'Ravi Patel-Shah' });
    tenant.deleteUser(user('Zeynep Kaya'), { permanently: true });
    const changed = await get(unchanged.json['@odata.deltaLink'] as string);
    expectShape(changed.json, fixture('user-delta-round-5-deltalink-changes.response.json'));
    expect(changed.json.value).toEqual([
      { displayName: 'Ravi Patel-Shah', givenName: 'Ravi', surname: 'Patel', id: user('Ravi Patel') },
      { id: user('Zeynep Kaya'), '@removed': { reason: 'deleted' } },
    ]);
  });

  it('a deleted user goes to the recycle bin (@removed "changed", 404 by id, memberships kept but not listed), comes back on restore, and leaves its groups only when deleted for good', async () => {
    const tenant = emulator.directory.findTenant(DEMO_TENANT_ID)!;
    const ravi = user('Ravi Patel');
    const groupsOf = async () => (await get(`/v1.0/users/${ravi}/memberOf?$select=id`)).json.value.map((item: { id: string }) => item.id).sort();
    const before = await groupsOf();
    expect(before.length).toBeGreaterThan(0);
    const users = await round('/v1.0/users/delta?$select=displayName');
    const groups = await round('/v1.0/groups/delta?$select=displayName,members');
    const usersLink = users.at(-1)['@odata.deltaLink'] as string;
    const groupsLink = groups.at(-1)['@odata.deltaLink'] as string;

    tenant.deleteUser(ravi);
    expect((await get(`/v1.0/users/${ravi}`)).status).toBe(404);
    const listed = (await get(`/v1.0/groups/${before[0]}/members?$select=id`)).json.value.map((item: { id: string }) => item.id);
    expect(listed).not.toContain(ravi);
    const soft = await get(usersLink);
    expect(soft.json.value).toEqual([{ id: ravi, '@removed': { reason: 'changed' } }]);
    // Graph: "Users that have been temporary deleted keep their group memberships and won't appear in the delta result until they're permanently deleted."
    expect((await get(groupsLink)).json.value).toEqual([]);

    tenant.restoreUser(ravi);
    const back = await get(soft.json['@odata.deltaLink'] as string);
    expect(back.json.value).toEqual([{ id: ravi, displayName: tenant.users.get(ravi)!.displayName }]);
    expect(await groupsOf()).toEqual(before);

    tenant.deleteUser(ravi);
    tenant.purgeUser(ravi);
    const gone = await get(back.json['@odata.deltaLink'] as string);
    expect(gone.json.value).toEqual([{ id: ravi, '@removed': { reason: 'deleted' } }]);
    const left = (await get(groupsLink)).json.value as Array<{ id: string; 'members@delta': Array<{ id: string; '@removed'?: unknown }> }>;
    expect(left.map((item) => item.id).sort()).toEqual(before);
    expect(left.every((item) => item['members@delta'].some((member) => member.id === ravi && member['@removed'] !== undefined))).toBe(true);
  });

  it('a Microsoft 365 group goes to the recycle bin (@removed "changed") and comes back with its members; a security group is deleted for good; a new group lags like a new user', async () => {
    const tenant = emulator.directory.findTenant(DEMO_TENANT_ID)!;
    const link = (await round('/v1.0/groups/delta?$select=displayName,members')).at(-1)['@odata.deltaLink'] as string;
    const board = group('board'); // Microsoft 365
    const members = [...tenant.groups.get(board)!.members].sort();
    tenant.deleteGroup(board);
    expect((await get(`/v1.0/groups/${board}`)).status).toBe(404);
    const soft = await get(link);
    expect(soft.json.value).toEqual([{ id: board, '@removed': { reason: 'changed' } }]);
    tenant.restoreGroup(board);
    const back = await get(soft.json['@odata.deltaLink'] as string);
    const restored = back.json.value as Array<{ id: string; 'members@delta': Array<{ id: string }> }>;
    expect(restored.map((item) => item.id)).toEqual([board]);
    expect(restored[0]!['members@delta'].map((member) => member.id).sort()).toEqual(members);

    const lag = stableId('northwind', 'group', 'lagging-team');
    tenant.tenant.settings.replicationLagSeconds = 60;
    try {
      tenant.createGroup(groupSchema.parse({ id: lag, displayName: 'Lagging Team', mailEnabled: false, securityEnabled: true, members: [user('Ben Carter')] }));
      expect((await get(`/v1.0/groups/${lag}`)).status).toBe(404);
      expect((await get('/v1.0/groups?$select=id&$top=999')).json.value.map((item: { id: string }) => item.id)).not.toContain(lag);
    } finally {
      tenant.tenant.settings.replicationLagSeconds = 0;
    }
    expect((await get(`/v1.0/groups/${lag}`)).status).toBe(200);
    tenant.deleteGroup(lag); // a security group: gone for good
    const gone = await get(back.json['@odata.deltaLink'] as string);
    expect((gone.json.value as Array<{ id: string; '@removed'?: unknown }>).find((item) => item.id === lag)).toEqual({ id: lag, '@removed': { reason: 'deleted' } });
  });

  it('a group with more members@delta than fit one object comes as several objects with one id, the later parts on later pages, together exactly its members', async () => {
    const tenant = emulator.directory.findTenant(DEMO_TENANT_ID)!;
    tenant.tenant.settings.deltaMembersPerObject = 3;
    try {
      const pages = await round('/v1.0/groups/delta?$select=displayName,members', small);
      const objects = pages.flatMap((page) => page.value as Array<{ id: string; displayName: string; 'members@delta'?: Array<{ id: string }> }>);
      const big = [...tenant.groups.values()].find((candidate) => candidate.members.filter((id) => tenant.object(id)).length > 6)!;
      const parts = objects.filter((object) => object.id === big.id);
      expect(parts.length).toBeGreaterThan(2);
      expect(parts.every((part) => part.displayName === big.displayName && (part['members@delta']?.length ?? 0) <= 3)).toBe(true);
      expect(parts.flatMap((part) => part['members@delta']!.map((member) => member.id)).sort()).toEqual(big.members.filter((id) => tenant.object(id)).sort());
      const pagesWith = pages.filter((page) => (page.value as Array<{ id: string }>).some((object) => object.id === big.id)).length;
      expect(pagesWith).toBeGreaterThan(1);
    } finally {
      tenant.tenant.settings.deltaMembersPerObject = 500;
    }
  });

  it('replication lag: a new user is not found by id, listed, counted or in the users round until it has replicated, while its membership already shows', async () => {
    const tenant = emulator.directory.findTenant(DEMO_TENANT_ID)!;
    const usersLink = (await round('/v1.0/users/delta?$select=displayName')).at(-1)['@odata.deltaLink'] as string;
    tenant.tenant.settings.replicationLagSeconds = 1;
    try {
      const hire = userSchema.parse({ id: stableId('northwind', 'user', 'lagging-hire'), displayName: 'Lena Lag', userPrincipalName: 'lena@northwind.example' });
      tenant.createUser(hire);
      tenant.addMembers(group('finance'), [hire.id]);
      expect((await get(`/v1.0/users/${hire.id}`)).status).toBe(404);
      expect((await get('/v1.0/users?$select=id&$top=999')).json.value.map((item: { id: string }) => item.id)).not.toContain(hire.id);
      expect((await get(`/v1.0/groups/${group('finance')}/members?$select=id`)).json.value.map((item: { id: string }) => item.id)).toContain(hire.id);
      const early = await get(usersLink);
      expect(early.json.value).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 1_100)); // the lag itself
      expect((await get(`/v1.0/users/${hire.id}`)).status).toBe(200);
      expect((await get(early.json['@odata.deltaLink'] as string)).json.value).toEqual([{ id: hire.id, displayName: 'Lena Lag' }]);
    } finally {
      tenant.tenant.settings.replicationLagSeconds = 0;
    }
  });

  it('the URL forms SDKs send (delta(), microsoft.graph.delta), $select scoping of what a round reports, and Prefer: return=minimal', async () => {
    const tenant = emulator.directory.findTenant(DEMO_TENANT_ID)!;
    const plain = (await round('/v1.0/users/delta?$select=displayName,mail')).flatMap((page) => page.value);
    for (const form of ['delta()', 'microsoft.graph.delta', 'microsoft.graph.delta()']) {
      expect((await round(`/v1.0/users/${form}?$select=displayName,mail`)).flatMap((page) => page.value), form).toEqual(plain);
    }
    const selected = (await round('/v1.0/users/delta?$select=displayName,mail')).at(-1)['@odata.deltaLink'] as string;
    const minimal = (await round('/v1.0/users/delta?$select=displayName,mail', { Prefer: 'return=minimal' })).at(-1)['@odata.deltaLink'] as string;
    const sofia = user('Sofia Rossi');
    tenant.updateUser(sofia, { jobTitle: 'Chief Revenue Officer' }); // not selected: not reported
    expect((await get(selected)).json.value).toEqual([]);
    tenant.updateUser(sofia, { mail: 'sofia.rossi@northwind.example' });
    const full = (await get(selected)).json.value;
    expect(full).toEqual([{ id: sofia, displayName: tenant.users.get(sofia)!.displayName, mail: 'sofia.rossi@northwind.example' }]);
    // return=minimal: the id and what changed, nothing else.
    expect((await get(minimal)).json.value).toEqual([{ id: sofia, mail: 'sofia.rossi@northwind.example' }]);
  });

  it('filters by at most 50 ids, and an expired token answers 410 syncStateNotFound with a restart Location', async () => {
    const filtered = await round(`/v1.0/groups/delta?$filter=id eq '${group('sales')}' or id eq '${group('board')}'&$select=displayName`);
    expect(filtered.flatMap((page) => page.value.map((item: { displayName: string }) => item.displayName)).sort()).toEqual(['Board of Directors', 'Sales']);
    const many = Array.from({ length: 51 }, (_, index) => `id eq '${stableId(index)}'`).join(' or ');
    expect((await get(`/v1.0/groups/delta?$filter=${encodeURIComponent(many)}`)).status).toBe(400);
    expect((await get('/v1.0/groups/delta?$top=5')).status).toBe(400);

    const pages = await round('/v1.0/users/delta?$select=displayName');
    const latest = await get('/v1.0/users/delta?$deltatoken=latest');
    expect(latest.json.value).toEqual([]);
    expect(latest.json['@odata.deltaLink']).toMatch(/\$deltatoken=/);
    emulator.faults.deltaTokenLifetimeSeconds = 1;
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the token's lifetime itself
    const expired = await get(pages.at(-1)['@odata.deltaLink'] as string);
    expect(expired.status).toBe(410);
    expect(expired.json.error.code).toBe('syncStateNotFound');
    expect(expired.headers.get('location')).toMatch(/\/v1\.0\/users\/delta$/);
    emulator.faults.deltaTokenLifetimeSeconds = 7 * 24 * 60 * 60;
  });
});

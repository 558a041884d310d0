import Ajv2020 from 'ajv/dist/2020.js';
import { sql } from 'kysely';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import { generateTenant } from '../../emulator/generate.js';
import { Browser } from '../support/app.js';
import { startProductStack, type ProductStack } from '../support/stack.js';
import { syncHarness } from '../support/sync.js';

const KEYS = '/org/settings/api-keys';
const OTHER = generateTenant({
  seed: 17_017,
  displayName: 'Globex Directory',
  domain: 'globex.example',
  users: 60,
  groups: 3,
  membersPerGroup: 25,
  nestedShare: 0,
  guestShare: 0.1,
  disabledShare: 0.1,
  sharedMailboxShare: 0,
  hiddenShare: 0,
  servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
});

interface Page<T> { data: T[]; nextCursor: string | null }
interface User { id: string; entraId: string; connectionId: string; status: string; groups: string[]; email: string | null }
interface Group { id: string; entraId: string; connectionId: string; status: string; memberCount: number | null }

/**
 * The directory API as the rest of Hook uses it (an org's key, every page) and as a hostile
 * customer does (their own valid key, forged ids, cursors and parameters, a browser session, a
 * revoked key); every answer is checked against the OpenAPI document the app serves.
 */
describe('the directory API, /api/v1', () => {
  let stack: ProductStack;
  let admin: Browser;
  let outsider: Browser;
  let acmeKey: string;
  let globexKey: string;
  const connections: Record<'acme' | 'globex', string> = { acme: '', globex: '' };
  const db = () => stack.database.db;
  let validate: (path: string, status: number, body: unknown) => void;

  /** A GET with a key, its answer checked against the document's schema for that path and status. */
  async function api<T>(path: string, key: string = acmeKey, headers: Record<string, string> = {}): Promise<{ status: number; body: T; headers: Headers }> {
    const response = await fetch(`${stack.app.url}/api/v1${path}`, { headers: { ...(key !== '' ? { Authorization: `Bearer ${key}` } : {}), ...headers } });
    const body = (await response.json()) as T;
    validate(path, response.status, body);
    return { status: response.status, body, headers: response.headers };
  }
  async function all<T>(path: string, key = acmeKey): Promise<T[]> {
    const items: T[] = [];
    let after: string | null = null;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const { status, body }: { status: number; body: Page<T> } = await api<Page<T>>(`${path}${separator}limit=7${after ? `&after=${after}` : ''}`, key);
      expect(status).toBe(200);
      items.push(...body.data);
      after = body.nextCursor;
    } while (after);
    return items;
  }

  async function createKey(browser: Browser, name: string): Promise<string> {
    await browser.request(KEYS);
    const page = await browser.post(KEYS, { name });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    return /value="(hds_[\w-]{43})"/.exec(page.text)![1]!;
  }

  beforeAll(async () => {
    stack = await startProductStack({ prefix: 'api', tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }]), OTHER] });
    const acme = (await findOrgBySlug(db(), stack.people.acme))!;
    const globex = (await findOrgBySlug(db(), stack.people.globex))!;
    connections.acme = await upsertConnection(db(), { orgId: acme.id, tenantId: DEMO_TENANT_ID, tenantName: 'Northwind Outfitters', verifiedDomains: [] });
    connections.globex = await upsertConnection(db(), { orgId: globex.id, tenantId: OTHER.id, tenantName: OTHER.displayName, verifiedDomains: [] });
    // Real cycles fill both orgs' directories.
    for (const [org, tenant, groups] of [[acme.id, demoTenant(), 'acme'], [globex.id, OTHER, 'globex']] as const) {
      const harness = syncHarness({ db: db(), client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, orgId: org, connectionId: connections[groups], tenantId: tenant.id });
      await harness.syncGroups(tenant.groups!.slice(0, 4).map((each) => each.id));
      await harness.cycle();
      await harness.handle.terminate();
    }
    admin = new Browser(stack.app.url);
    await admin.signIn(stack.people.admin.email);
    outsider = new Browser(stack.app.url);
    await outsider.signIn(stack.people.outsider.email); // Globex's admin
    const document = await (await fetch(`${stack.app.url}/api/v1/openapi.json`)).json();
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(document, 'openapi');
    validate = (path, status, body) => {
      const route = Object.keys(document.paths).find((pattern) => new RegExp(`^${pattern.replace(/\{id\}/g, '[^/]+')}$`).test(path.split('?')[0]!));
      if (!route) {
        // A path the document does not list: a 404 in the document's error shape.
        expect(status, `${path} is not in the OpenAPI document`).toBe(404);
        expect(ajv.getSchema('openapi#/components/schemas/Error')!(body)).toBe(true);
        return;
      }
      const response = document.paths[route].get.responses[String(status)];
      expect(response, `${path} answers ${status}, which the document lists`).toBeDefined();
      const ref = response.content['application/json'].schema.$ref as string;
      const check = ajv.getSchema(`openapi${ref}`)!;
      expect(check(body), `${path} ${status}: ${JSON.stringify(check.errors)}`).toBe(true);
    };
    acmeKey = await createKey(admin, 'Campaign service');
    globexKey = await createKey(outsider, 'Globex training');
  }, 240_000);
  afterAll(() => stack?.stop());

  it('lists every synced user once over keyset pages, with the groups each is in, exactly as Hook holds them', async () => {
    const users = await all<User>('/users');
    const held = await db().selectFrom('directory_users').select(['id', 'user_id']).where('connection_id', '=', connections.acme).where('removed_at', 'is', null).execute();
    expect(users.map((user) => user.id).sort()).toEqual(held.map((row) => row.id).sort());
    expect(new Set(users.map((user) => user.id)).size).toBe(users.length);
    expect(users.every((user) => user.connectionId === connections.acme && user.status === 'active')).toBe(true);

    const groups = await all<Group>('/groups');
    expect(groups).toHaveLength(4);
    for (const group of groups) {
      const members = await all<User>(`/groups/${group.id}/members`);
      expect(members).toHaveLength(group.memberCount!);
      expect(members.every((member) => member.groups.includes(group.id))).toBe(true);
      expect((await all<User>(`/users?group=${group.id}`)).map((user) => user.id)).toEqual(members.map((member) => member.id));
      expect((await api<Group>(`/groups/${group.id}`)).body).toEqual(group);
    }
    const one = users[0]!;
    expect((await api<User>(`/users/${one.id}`)).body).toEqual(one);
    const [connection] = (await api<{ data: Array<{ id: string; userCount: number }> }>('/connections')).body.data;
    expect(connection).toMatchObject({ id: connections.acme, userCount: expect.any(Number) });
    const first = one.email!.split('@')[0]!;
    const found = await all<User>(`/users?search=${encodeURIComponent(first)}`);
    expect(found.map((user) => user.id)).toContain(one.id);
    expect((await api<Page<User>>(`/users?updatedSince=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body.data).toEqual([]);
  });

  it('another org\'s valid key reads nothing of this org, whatever ids, filters or cursors it forges', async () => {
    const [acmeGroup] = (await api<Page<Group>>('/groups')).body.data;
    const [acmeUser] = (await api<Page<User>>('/users')).body.data;
    expect((await api(`/groups/${acmeGroup!.id}`, globexKey)).status).toBe(404);
    expect((await api(`/groups/${acmeGroup!.id}/members`, globexKey)).status).toBe(404);
    expect((await api(`/users/${acmeUser!.id}`, globexKey)).status).toBe(404);
    expect((await api(`/connections/${connections.acme}`, globexKey)).status).toBe(404);
    expect((await api(`/users?connection=${connections.acme}`, globexKey)).status).toBe(404);
    expect((await api(`/users?group=${acmeGroup!.id}`, globexKey)).status).toBe(404);
    // A cursor made from Acme's own rows only moves Globex's list along.
    const forged = Buffer.from(JSON.stringify([connections.acme, acmeUser!.entraId])).toString('base64url');
    const page = await api<Page<User>>(`/users?after=${forged}`, globexKey);
    expect(page.status).toBe(200);
    expect(page.body.data.every((user) => user.connectionId === connections.globex)).toBe(true);
    const theirs = await all<User>('/users', globexKey);
    expect(theirs.length).toBeGreaterThan(0);
    expect(theirs.every((user) => user.connectionId === connections.globex)).toBe(true);
    expect((await api<{ data: Array<{ id: string }> }>('/connections', globexKey)).body.data.map((each) => each.id)).toEqual([connections.globex]);
  });

  it('refuses requests without a valid key: none, malformed, a browser session, a revoked key', async () => {
    expect((await api('/users', '')).status).toBe(401);
    expect((await api('/users', 'hds_not-a-key')).status).toBe(401);
    expect((await api('/users', `hds_${'A'.repeat(43)}`)).status).toBe(401);
    const unauthorized = await api('/users', '', { Cookie: `hook_session=${admin.cookie('hook_session') ?? ''}` });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toContain('Bearer');

    const doomed = await createKey(admin, 'Short-lived');
    expect((await api('/users', doomed)).status).toBe(200);
    const listed = await admin.request(KEYS);
    const keyId = new RegExp(`/org/settings/api-keys/([0-9a-f-]{36})/revoke"[^]*?aria-label="Revoke Short-lived"`).exec(listed.text)?.[1];
    expect(keyId).toBeDefined();
    expect((await outsider.post(`${KEYS}/${keyId}/revoke`)).status).toBe(404); // Globex's admin cannot revoke Acme's key
    expect((await api('/users', doomed)).status).toBe(200);
    expect((await admin.post(`${KEYS}/${keyId}/revoke`)).status).toBe(303);
    expect((await api('/users', doomed)).status).toBe(401);
  });

  it('answers bad parameters with a clear 400 naming them, and changes nothing', async () => {
    for (const [path, message] of [
      ['/users?limit=0', 'limit must be a whole number from 1 to 500'],
      ['/users?limit=501', 'limit must be a whole number from 1 to 500'],
      ['/users?status=gone', 'status must be active, removed or all'],
      ['/users?updatedSince=yesterday', 'updatedSince must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z'],
      ['/users?after=bm90LWEtY3Vyc29y', 'after must be a cursor from a previous page'],
      ['/users?connection=1%27%20or%201=1', 'connection must be a connection id'],
      ['/users?orderBy=password', 'Unknown parameter: orderBy'],
      ['/groups?status=broken', 'status must be ok, failing, missing or pending'],
    ] as const) {
      const answer = await api<{ error: { code: string; message: string } }>(path);
      expect([path, answer.status, answer.body.error]).toEqual([path, 400, { code: 'invalid_request', message }]);
    }
    expect((await api('/users/not-a-uuid')).status).toBe(404);
    expect((await api('/nothing-here')).status).toBe(404);
  });

  it('the events feed: read from the start, it rebuilds exactly the directory the API lists; filtered by type; only ever the org\'s own', async () => {
    type Event = { id: string; cursor: string; type: string; connectionId: string; data: { user?: { id: string; status: string }; group?: { id: string } } };
    const events: Event[] = [];
    let after = '';
    for (;;) {
      const { status, body } = await api<{ data: Event[]; nextCursor: string; hasMore: boolean }>(`/events?limit=50${after ? `&after=${after}` : ''}`);
      expect(status).toBe(200);
      events.push(...body.data);
      after = body.nextCursor;
      if (!body.hasMore) break;
    }
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    expect(events.every((event) => event.connectionId === connections.acme)).toBe(true);
    expect((await api<{ cursor: string }>('/events/cursor')).body.cursor).toBe(after);
    expect((await api<{ data: Event[]; hasMore: boolean }>(`/events?after=${after}`)).body).toMatchObject({ data: [], hasMore: false });

    const active = new Map<string, Set<string>>();
    for (const event of events) {
      const { user, group } = event.data;
      if (event.type.startsWith('user.')) {
        if (user!.status === 'active') active.set(user!.id, active.get(user!.id) ?? new Set());
        else active.delete(user!.id);
      }
      if (event.type === 'membership.added') active.get(user!.id)?.add(group!.id);
      if (event.type === 'membership.removed') active.get(user!.id)?.delete(group!.id);
    }
    const listed = await all<User>('/users');
    expect(new Map(listed.map((user) => [user.id, new Set(user.groups)]))).toEqual(active);

    const added = (await api<{ data: Event[] }>('/events?types=user.added,group.added&limit=500')).body.data;
    expect(added.map((event) => event.id)).toEqual(events.filter((event) => event.type === 'user.added' || event.type === 'group.added').map((event) => event.id).slice(0, 500));

    // Globex's key: Acme's cursor only moves along Globex's own feed; Acme's connection is not there.
    const theirs = (await api<{ data: Event[] }>(`/events?after=${events[0]!.cursor}&limit=500`, globexKey)).body.data;
    expect(theirs.length).toBeGreaterThan(0);
    expect(theirs.every((event) => event.connectionId === connections.globex)).toBe(true);
    expect((await api(`/events?connection=${connections.acme}`, globexKey)).status).toBe(404);
    for (const [path, message] of [
      ['/events?types=user.exploded', `types must be a comma-separated list of: user.added, user.updated`],
      ['/events?after=WyIxIiwib3IgMT0xIl0', 'after must be a cursor from a previous page'],
      ['/events?since=0', 'Unknown parameter: since'],
    ] as const) {
      const answer = await api<{ error: { code: string; message: string } }>(path);
      expect(answer.status).toBe(400);
      expect(answer.body.error.message).toContain(message);
    }

    // Events past their retention were swept: a cursor before them is told, never silently skipped.
    await sql`insert into directory_events_horizon (tx, id) select tx, id from directory_events where id = ${events[1]!.id}`.execute(db());
    try {
      const expired = await api<{ error: { code: string } }>(`/events?after=${events[0]!.cursor}`);
      expect([expired.status, expired.body.error.code]).toEqual([410, 'cursor_expired']);
    } finally {
      await db().deleteFrom('directory_events_horizon').execute();
    }
  });

  it('keeps only a fingerprint of each key, shows when it was last used, and lets only admins manage keys', async () => {
    const rows = await db().selectFrom('api_keys').selectAll().execute();
    for (const row of rows) expect(JSON.stringify(row)).not.toContain(acmeKey.slice(12));
    const page = await admin.request(KEYS);
    expect(page.text).toContain('Campaign service');
    expect(page.text).toContain(`${acmeKey.slice(0, 12)}…`);
    expect(page.text).not.toContain(acmeKey);
    const row = /<th scope="row" data-label="Name">Campaign service<\/th>[^]*?<\/tr>/.exec(page.text)![0];
    expect(row).toMatch(/data-label="Last used">\d{4}-\d\d-\d\d \d\d:\d\d UTC</); // used by the tests above, not "Never"
    expect(row).toContain('by Ada Admin');
    const member = new Browser(stack.app.url);
    await member.signIn(stack.people.member.email);
    expect((await member.request(KEYS)).status).toBe(403);
    expect((await member.post(KEYS, { name: 'sneaky' })).status).toBe(403);
    expect((await admin.post(KEYS, { name: '   ' })).status).toBe(400);
    expect(await db().selectFrom('api_keys').select('name').where('name', 'in', ['sneaky', '']).execute()).toEqual([]);
  });
});

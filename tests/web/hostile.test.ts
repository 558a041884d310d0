import { randomBytes, randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_TENANT_ID, demoTenant } from '../../emulator/demo.js';
import { loadConfig } from '../../lib/config.js';
import { withoutSecret } from '../../lib/entra-settings.js';
import { createLogger } from '../../lib/logger.js';
import { createApp } from '../../web/app.js';
import { Browser, entraFor, TEST_SECRET } from '../support/app.js';
import { TEST_DATA_KEY } from '../support/secrets.js';
import { faultFigure } from '../support/faults.js';
import { startProductStack, type ProductStack } from '../support/stack.js';

// Strings an attacker tries in every slot: SQL, script, traversal, control characters, huge
// and odd numbers, template syntax, prototype keys.
const HOSTILE = [
  "' OR '1'='1",
  "'; DROP TABLE directory_users; --",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '../../../../etc/passwd',
  '%00',
  '\u0000\u0007\u001b',
  '{{7*7}}<%= 7*7 %>${7*7}',
  '__proto__',
  'constructor',
  '-1',
  '1e309',
  'NaN',
  '😀'.repeat(60),
  'x'.repeat(5_000),
  '00000000-0000-0000-0000-000000000000',
];

/** Every route of the app, as "METHOD /path", walked from Express's own router. */
function routesOf(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Array<{ route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: unknown[] } }>) => {
    for (const layer of stack) {
      if (layer.route) for (const method of Object.keys(layer.route.methods)) found.push(`${method.toUpperCase()} ${layer.route.path}`);
      else if (layer.handle?.stack) walk(layer.handle.stack as typeof stack);
    }
  };
  walk((app as unknown as { router: { stack: Parameters<typeof walk>[0] } }).router.stack);
  return [...new Set(found)].sort();
}

describe('hostile input: malformed, oversized and injection-shaped requests, other orgs, forged forms', () => {
  let stack: ProductStack;
  let acmeConnection: string;
  let globexConnection: string;
  let admin: Browser;
  let outsider: Browser;

  beforeAll(async () => {
    stack = await startProductStack({ prefix: 'hostile', tenants: [demoTenant()] });
    const db = stack.database.db;
    const acme = (await findOrgBySlug(db, stack.people.acme))!;
    const globex = (await findOrgBySlug(db, stack.people.globex))!;
    acmeConnection = await upsertConnection(db, { orgId: acme.id, tenantId: DEMO_TENANT_ID, tenantName: 'Acme Directory', verifiedDomains: [] });
    globexConnection = await upsertConnection(db, { orgId: globex.id, tenantId: randomUUID(), tenantName: 'Globex Directory', verifiedDomains: [] });
    // Acme's synced data: what another org must never see.
    const groupId = randomUUID();
    await db.insertInto('synced_groups').values({ connection_id: acmeConnection, group_id: groupId, display_name: 'Acme Secret Group' }).execute();
    const users = Array.from({ length: 30 }, (_, index) => ({ connection_id: acmeConnection, user_id: randomUUID(), display_name: `Acme Secret User ${index}`, mail: `secret${index}@acme.example`, user_principal_name: `secret${index}@acme.example`, user_type: 'Member', account_enabled: true, removed_at: null, removed_reason: null, email_domain: 'acme.example' }));
    await db.insertInto('directory_users').values(users).execute();
    await db.insertInto('group_memberships').values(users.map((user) => ({ connection_id: acmeConnection, group_id: groupId, user_id: user.user_id }))).execute();
    admin = new Browser(stack.app.url);
    await admin.signIn(stack.people.admin.email);
    await admin.request('/org/settings/integrations');
    outsider = new Browser(stack.app.url);
    await outsider.signIn(stack.people.outsider.email);
    await outsider.request('/org/settings/integrations');
  });
  afterAll(() => stack.stop());

  /** Everything a request could change, hashed table by table (sessions and sign-in throttling aside). */
  async function snapshot(): Promise<Record<string, string>> {
    const tables = ['orgs', 'accounts', 'org_memberships', 'entra_connections', 'consent_requests', 'entra_groups', 'synced_groups', 'preview_samples', 'directory_users', 'group_memberships', 'sync_runs', 'directory_events', 'webhook_endpoints'];
    const hashes: Record<string, string> = {};
    for (const table of tables) {
      const row = await sql<{ hash: string | null }>`select md5(string_agg(t::text, '|' order by t::text)) as hash from ${sql.table(table)} t`.execute(stack.database.db);
      hashes[table] = row.rows[0]?.hash ?? 'empty';
    }
    return hashes;
  }

  // Every route, with the inputs it reads. State-changing routes without fields of their own
  // (Connect, Sync now, …) are attacked through their path, query and headers here, and through
  // their CSRF token below: a valid request to them is meant to change something.
  const catalogue: Record<string, { query?: string[]; form?: string[]; path?: boolean; changes?: boolean }> = {
    'GET /': {},
    'GET /assets/htmx.min.js': {},
    'GET /healthz': {},
    'GET /readyz': {},
    'GET /sign-in': { query: ['next'] },
    'POST /sign-in': { form: ['email', 'password'] },
    'POST /sign-out': { changes: true },
    'GET /org/settings/integrations': { query: ['expand', 'onboarding', 'org', 'tab', 'q', 'afterName', 'afterId'] },
    'POST /org/settings/integrations/microsoft-entra/connect': { changes: true },
    'GET /org/settings/integrations/microsoft-entra/callback': { query: ['state', 'code', 'session_state', 'admin_consent', 'tenant', 'scope', 'error', 'error_description', 'error_uri'] },
    'GET /org/settings/integrations/onboarding/:workflowId/status': { path: true },
    'POST /org/switch': { form: ['org', 'next'] },
    'GET /org/settings/integrations/microsoft-entra/groups': { query: ['connection', 'org'] },
    'POST /org/settings/integrations/microsoft-entra/groups': { form: ['connection'] },
    'GET /org/settings/integrations/microsoft-entra/groups/search': { query: ['connection', 'q'] },
    'POST /org/settings/integrations/microsoft-entra/groups/preview': { form: ['connection', 'baseVersion', 'group'] },
    'GET /org/settings/integrations/microsoft-entra/preview': { query: ['connection'] },
    'POST /org/settings/integrations/microsoft-entra/preview/save': { form: ['connection', 'saveId'] },
    'GET /org/settings/integrations/connections/:connectionId/pane': { path: true, query: ['tab', 'q'] },
    'GET /org/settings/integrations/connections/:connectionId/users': { path: true, query: ['q', 'afterName', 'afterId', 'tab'] },
    'GET /org/settings/integrations/connections/:connectionId/sync-status': { path: true, query: ['tab', 'polling'] },
    'POST /org/settings/integrations/connections/:connectionId/sync-now': { path: true, changes: true },
    'POST /org/settings/integrations/connections/:connectionId/confirm-removals': { path: true, changes: true },
    'POST /org/settings/integrations/connections/:connectionId/disconnect': { path: true, changes: true },
    'GET /org/settings/integrations/connections/:connectionId/runs': { path: true },
    'GET /org/settings/integrations/connections/:connectionId/users/:userId/history': { path: true, query: ['before'] },
    'GET /org/settings/integrations/connections/:connectionId/groups/:groupId/history': { path: true, query: ['before'] },
    'GET /org/settings/integrations/connections/:connectionId/users.csv': { path: true },
    'GET /org/settings/api-keys': {},
    'POST /org/settings/api-keys': { form: ['name'] },
    'POST /org/settings/api-keys/:keyId/revoke': { path: true, changes: true },
    'GET /org/settings/webhooks': {},
    'POST /org/settings/webhooks': { form: ['url', 'types'] },
    'POST /org/settings/webhooks/:endpointId/pause': { path: true, changes: true },
    'POST /org/settings/webhooks/:endpointId/resume': { path: true, changes: true },
    'POST /org/settings/webhooks/:endpointId/delete': { path: true, changes: true },
    'POST /org/settings/webhooks/:endpointId/roll-secret': { path: true, form: ['seen'], changes: true },
    // The directory API: without a key every one is a 401 here (tests/web/api.test.ts attacks it with keys).
    'GET /api/v1/openapi.json': {},
    'GET /api/v1/connections': {},
    'GET /api/v1/connections/:id': { path: true },
    'GET /api/v1/groups': { query: ['connection', 'status', 'limit', 'after'] },
    'GET /api/v1/groups/:id': { path: true },
    'GET /api/v1/groups/:id/members': { path: true, query: ['limit', 'after'] },
    'GET /api/v1/users': { query: ['connection', 'group', 'status', 'updatedSince', 'search', 'limit', 'after'] },
    'GET /api/v1/users/:id': { path: true },
    'GET /api/v1/events': { query: ['after', 'connection', 'types', 'limit'] },
    'GET /api/v1/events/cursor': {},
  };

  it('covers every route the app has', () => {
    const app = createApp({
      config: loadConfig({ SESSION_SECRET: TEST_SECRET, DATA_ENCRYPTION_KEY: TEST_DATA_KEY }),
      db: stack.database.db,
      temporal: stack.temporal.client,
      logger: createLogger('silent', 'test'),
      entra: withoutSecret(entraFor(stack.emulator)),
    });
    expect(routesOf(app)).toEqual(Object.keys(catalogue).sort());
  });

  it('malformed, oversized and injection-shaped input: no 5xx on any route, and nothing changes', async () => {
    const before = await snapshot();
    const failures: string[] = [];
    let cases = 0;
    const attempt = async (who: Browser, label: string, path: string, init: Parameters<Browser['request']>[1] = {}) => {
      cases += 1;
      const response = await who.request(path, init);
      if (response.status >= 500) failures.push(`${label}: ${response.status}`);
    };
    for (const [route, inputs] of Object.entries(catalogue)) {
      const [method, pattern] = route.split(' ') as [string, string];
      const fill = (value: string) => pattern.replace(/:(\w+)/g, () => encodeURIComponent(value));
      const valid = fill(acmeConnection);
      for (const who of [admin, outsider]) {
        for (const value of HOSTILE) {
          if (inputs.path) await attempt(who, `${route} path=${value.slice(0, 20)}`, fill(value), { method, form: method === 'POST' ? { _csrf: who.csrf } : undefined });
          for (const key of inputs.query ?? []) {
            await attempt(who, `${route} ?${key}`, `${valid}?${key}=${encodeURIComponent(value)}`, { method: method === 'POST' ? 'GET' : method });
            await attempt(who, `${route} ?${key}[]`, `${valid}?${key}=a&${key}=${encodeURIComponent(value)}&${key}[x]=1`, { method: method === 'POST' ? 'GET' : method });
            if (key === 'afterName') await attempt(who, `${route} ?afterName&afterId`, `${valid}?afterName=${encodeURIComponent(value)}&afterId=${acmeConnection}`, { method: 'GET' });
          }
          for (const key of inputs.form ?? []) await attempt(who, `${route} ${key}=`, valid, { method, form: { _csrf: who.csrf, [key]: value, connection: key === 'connection' ? value : acmeConnection } });
        }
        if (method === 'POST' && !inputs.changes) {
          // Bodies no form sends: far too large, too many fields, JSON, garbage, prototype keys.
          const headers = { 'X-CSRF-Token': who.csrf };
          await attempt(who, `${route} 1 MB body`, valid, { method, form: { _csrf: who.csrf, connection: acmeConnection, q: 'x'.repeat(1_000_000) } });
          await attempt(who, `${route} 6,000 fields`, valid, { method, form: Object.fromEntries([['_csrf', who.csrf], ...Array.from({ length: 6_000 }, (_, index) => [`f${index}`, 'x'])]) });
          await attempt(who, `${route} JSON`, valid, { method, headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify({ connection: { $ne: null }, __proto__: { admin: true } }) });
          await attempt(who, `${route} garbage`, valid, { method, headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' }, body: '%E0%A4%A=&&==%%' });
          await attempt(who, `${route} __proto__`, valid, { method, headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' }, body: `__proto__[admin]=1&constructor[prototype][admin]=1&connection=${acmeConnection}` });
        }
        // Headers: htmx on, odd content types, a giant and a garbled cookie.
        const read = method === 'POST' ? 'GET' : method;
        await attempt(who, `${route} HX-Request`, valid, { method: read, headers: { 'HX-Request': 'true', 'HX-Target': '<script>' } });
        await attempt(who, `${route} Accept`, valid, { method: read, headers: { Accept: '../../etc/passwd', 'Accept-Language': "'; --" } });
      }
      const anonymous = new Browser(stack.app.url);
      await attempt(anonymous, `${route} garbled cookie`, valid, { method: method === 'POST' ? 'GET' : method, headers: { Cookie: `hook_session=${encodeURIComponent(HOSTILE[0]!)}; hook_session=${'x'.repeat(4_000)}` } });
      // Sent raw, as a browser never would: not valid percent-encoding.
      await attempt(anonymous, `${route} raw cookie`, valid, { method: method === 'POST' ? 'GET' : method, headers: { Cookie: 'x=%; hook_session=%E0%A4%A; hook_visitor=%%' } });
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
    faultFigure('hostile input', { cases, serverErrors: failures.length });
  }, 300_000);

  it("another org's connection, groups, users and workflows: refused on every route, nothing leaked", async () => {
    const before = await snapshot();
    const leaks: string[] = [];
    let cases = 0;
    const check = async (label: string, path: string, init: Parameters<Browser['request']>[1] = {}) => {
      cases += 1;
      const response = await outsider.request(path, init);
      // The directory API takes no session at all: a browser's is a 401 there (keys: tests/web/api.test.ts).
      const refused = path.startsWith('/api/v1/') ? [401] : [403, 404];
      if (!refused.includes(response.status)) leaks.push(`${label}: ${response.status}`);
      if (/Acme Secret|Acme Directory|secret\d+@acme/.test(response.text)) leaks.push(`${label}: leaked Acme's data`);
    };
    for (const [route, inputs] of Object.entries(catalogue)) {
      const [method, pattern] = route.split(' ') as [string, string];
      if (inputs.path && pattern.includes(':connectionId')) {
        const path = pattern.replace(':connectionId', acmeConnection);
        await check(route, method === 'GET' ? `${path}?tab=users` : path, { method, form: method === 'POST' ? { _csrf: outsider.csrf } : undefined });
      }
      if (inputs.query?.includes('connection')) await check(route, `${pattern}?connection=${acmeConnection}&q=Secret`);
      if (inputs.form?.includes('connection')) await check(route, pattern, { method, form: { _csrf: outsider.csrf, connection: acmeConnection, baseVersion: '0', saveId: 'abcdefgh-1234', group: randomUUID() } });
    }
    await check('onboarding status of another org', `/org/settings/integrations/onboarding/onboarding-${(await findOrgBySlug(stack.database.db, stack.people.acme))!.id}-abc/status`);
    await check('switch into another org', `/org/settings/integrations?org=${stack.people.acme}&expand=${acmeConnection}`);
    // Their own pages never show Acme's rows either.
    const own = await outsider.request(`/org/settings/integrations/connections/${globexConnection}/users?q=Secret`);
    if (/Acme Secret/.test(own.text)) leaks.push('own users list showed Acme users');
    // Acme's own user and group ids, under Acme's connection and forged under Globex's own.
    const acmeUser = (await stack.database.db.selectFrom('directory_users').select('id').where('connection_id', '=', acmeConnection).executeTakeFirstOrThrow()).id;
    const acmeGroup = (await stack.database.db.selectFrom('synced_groups').select('id').where('connection_id', '=', acmeConnection).executeTakeFirstOrThrow()).id;
    for (const connection of [acmeConnection, globexConnection]) {
      await check(`user history ${connection === acmeConnection ? 'in' : 'forged under own'} connection`, `/org/settings/integrations/connections/${connection}/users/${acmeUser}/history`);
      await check(`group history ${connection === acmeConnection ? 'in' : 'forged under own'} connection`, `/org/settings/integrations/connections/${connection}/groups/${acmeGroup}/history`);
    }
    const ownExport = await outsider.request(`/org/settings/integrations/connections/${globexConnection}/users.csv`);
    cases += 1;
    if (ownExport.status !== 200 || /Acme Secret|secret\d+@acme/.test(ownExport.text)) leaks.push(`own CSV export: ${ownExport.status}, or it showed Acme users`);
    // The plain-page pane (no JavaScript) takes the connection from the query too.
    const plain = await outsider.request(`/org/settings/integrations?expand=${acmeConnection}&tab=users&q=Secret`);
    cases += 1;
    if (/Acme Secret|Acme Directory/.test(plain.text)) leaks.push('the plain-page pane showed Acme users');
    expect(leaks).toEqual([]);
    expect(await snapshot()).toEqual(before);
    faultFigure('cross-org access', { cases, allowedOrLeaked: leaks.length });
  }, 120_000);

  it('a plain member, and an admin of two orgs working in the other one, are refused on every Settings route', async () => {
    const before = await snapshot();
    const member = new Browser(stack.app.url);
    await member.signIn(stack.people.member.email); // a member of Acme, no admin
    await member.request('/');
    // The admin of Acme and Globex, switched to Globex: Acme's connection is not there.
    const elsewhere = new Browser(stack.app.url);
    await elsewhere.signIn(stack.people.admin.email);
    await elsewhere.request('/org/settings/integrations');
    expect((await elsewhere.post('/org/switch', { org: stack.people.globex })).status).toBe(303);
    await elsewhere.request('/org/settings/integrations');
    const wrong: string[] = [];
    let cases = 0;
    for (const [route, inputs] of Object.entries(catalogue)) {
      const [method, pattern] = route.split(' ') as [string, string];
      if (!pattern.startsWith('/org/settings')) continue;
      const path = pattern.replace(':connectionId', acmeConnection).replace(':workflowId', `onboarding-${randomUUID()}-x`);
      const query = inputs.query?.includes('connection') ? `?connection=${acmeConnection}&q=Secret` : '';
      const namesAcme = inputs.path === true || [...(inputs.query ?? []), ...(inputs.form ?? [])].includes('connection');
      for (const [who, browser, allowed] of [['member', member, [403]], ['two-org admin in Globex', elsewhere, [400, 404]]] as const) {
        // In Globex, Connect and the Integrations page are the admin's own (Globex's): only routes naming Acme's objects must refuse.
        if (who !== 'member' && !namesAcme && !pattern.endsWith('/callback')) continue;
        cases += 1;
        const form = method === 'POST' ? { _csrf: browser.csrf, connection: acmeConnection, baseVersion: '0', saveId: 'abcdefgh-1234' } : undefined;
        const response = await browser.request(`${path}${query}`, { method, form });
        // The callback answers every signed-in account the same way (a state it never issued: 400).
        const expected = pattern.endsWith('/callback') ? [400] : route === 'GET /org/settings/integrations' && who !== 'member' ? [200] : allowed;
        if (!(expected as readonly number[]).includes(response.status)) wrong.push(`${who} ${route}: ${response.status}`);
        if (/Acme Secret|Acme Directory/.test(response.text)) wrong.push(`${who} ${route}: leaked Acme's data`);
        // Naming Acme in the query acts on nothing either: a POST is refused, a GET only offers the switch.
        if (who !== 'member') {
          cases += 1;
          const named = await browser.request(`${path}${query === '' ? '?' : `${query}&`}org=${stack.people.acme}`, { method, form });
          if (!(method === 'POST' ? [409] : [200, 400]).includes(named.status) || /Acme Secret/.test(named.text)) wrong.push(`${who} ${route} ?org=acme: ${named.status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(await snapshot()).toEqual(before);
    faultFigure('member and other-org admin', { cases, allowedOrLeaked: wrong.length });
  });

  it('a missing, wrong or foreign CSRF token is refused on every state-changing route, and changes nothing', async () => {
    const before = await snapshot();
    const posts = Object.keys(catalogue).filter((route) => route.startsWith('POST ')).map((route) => route.slice(5).replace(':connectionId', acmeConnection));
    const tokens = { missing: undefined, wrong: randomBytes(32).toString('base64url'), 'another session': outsider.csrf, empty: '' };
    const accepted: string[] = [];
    let cases = 0;
    for (const path of posts) {
      for (const [kind, token] of Object.entries(tokens)) {
        cases += 1;
        const form: Record<string, string> = { connection: acmeConnection, email: stack.people.admin.email, password: 'x', baseVersion: '0', saveId: 'abcdefgh-1234' };
        if (token !== undefined) form._csrf = token;
        const response = await admin.request(path, { form });
        if (response.status !== 403) accepted.push(`${path} (${kind}): ${response.status}`);
      }
    }
    expect(accepted).toEqual([]);
    expect(await snapshot()).toEqual(before);
    faultFigure('CSRF', { routes: posts.length, cases, accepted: accepted.length });
  });

  it('consent callbacks with a forged state are refused and change nothing', async () => {
    const before = await snapshot();
    const accepted: string[] = [];
    let cases = 0;
    for (const state of [randomBytes(32).toString('base64url'), 'a'.repeat(20), `${'x'.repeat(199)}`, HOSTILE[0]!.padEnd(25, 'x')]) {
      for (const extra of ['', `&tenant=${DEMO_TENANT_ID}&admin_consent=True`, '&error=access_denied&error_description=%3Cscript%3E']) {
        cases += 1;
        const response = await admin.request(`/org/settings/integrations/microsoft-entra/callback?state=${encodeURIComponent(state)}${extra}`);
        if (response.status !== 400 || !response.text.includes('This link has expired')) accepted.push(`${state} ${extra}: ${response.status}`);
        expect(response.text).not.toContain('<script>');
      }
    }
    expect(accepted).toEqual([]);
    expect(await snapshot()).toEqual(before);
    faultFigure('consent state forged', { cases, accepted: accepted.length });
  });

  it('every page carries a strict CSP (no unsafe-inline, no foreign origin but the consent form target) and the session cookie its flags', async () => {
    const consentOrigin = new URL(entraFor(stack.emulator).consentOrigin).origin;
    const pages = ['/', '/sign-in', '/healthz', '/org/settings/integrations', `/org/settings/integrations/connections/${acmeConnection}/pane`, '/nowhere'];
    for (const page of pages) {
      const response = await admin.request(page);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      const origins = csp.match(/https?:\/\/[^\s;]+/g) ?? [];
      expect(origins.every((origin) => origin === consentOrigin)).toBe(true);
      expect(/form-action 'self' \S+/.test(csp) ? csp.match(/form-action [^;]+/)![0] : '').toMatch(new RegExp(`^form-action 'self' ${consentOrigin.replace(/[.:/]/g, '\\$&')}$`));
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(csp).toContain("frame-ancestors 'none'");
    }
    const fresh = new Browser(stack.app.url);
    const signIn = await fresh.signIn(stack.people.admin.email);
    const cookie = signIn.headers.getSetCookie().find((value) => value.startsWith('hook_session='))!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
  });
});

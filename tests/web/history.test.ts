import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { CSV_HEADER, csvField } from '../../db/repositories/export.js';
import { DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import { paths } from '../../web/paths.js';
import { Browser } from '../support/app.js';
import { startProductStack, type ProductStack } from '../support/stack.js';
import { syncHarness, type SyncHarness } from '../support/sync.js';

const group = (key: string) => stableId('northwind', 'group', key);
const user = (name: string) => stableId('northwind', 'user', name);
const HOSTILE_NAME = '=HYPERLINK("http://evil.example","Sofia, the Rossi")';

/** RFC 4180 rows, as a spreadsheet reads them. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted && char === '"' && text[i + 1] === '"') {
      field += '"';
      i += 1;
    } else if (char === '"') {
      quoted = !quoted;
    } else if (quoted || (char !== ',' && char !== '\n' && char !== '\r')) {
      field += char;
    } else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n') {
      rows.push([...row, field]);
      row = [];
      field = '';
    }
  }
  return rows;
}

/**
 * What an admin reads to learn who changed and why: a user's and a group's history, the Sync runs
 * tab, and the All users export, over real sync cycles.
 */
describe('history, sync runs and the CSV export', () => {
  let stack: ProductStack;
  let admin: Browser;
  let sync: SyncHarness;
  let connectionId: string;
  const db = () => stack.database.db;
  const hookId = async (entraId: string) => (await db().selectFrom('directory_users').select('id').where('user_id', '=', entraId).executeTakeFirstOrThrow()).id;

  beforeAll(async () => {
    stack = await startProductStack({ prefix: 'history', tenants: [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }])] });
    const acme = (await findOrgBySlug(db(), stack.people.acme))!;
    connectionId = await upsertConnection(db(), { orgId: acme.id, tenantId: DEMO_TENANT_ID, tenantName: 'Northwind Outfitters', verifiedDomains: [] });
    sync = syncHarness({ db: db(), client: stack.temporal.client, taskQueue: stack.temporal.taskQueue, orgId: acme.id, connectionId, tenantId: DEMO_TENANT_ID });
    await sync.syncGroups([group('finance'), group('sales')]);
    await sync.cycle();
    // Entra changes: a rename, a member leaving Finance, an account disabled; and a hostile name.
    const tenant = stack.emulator.directory.findTenant(DEMO_TENANT_ID)!;
    tenant.updateUser(user('Ravi Patel'), { displayName: 'Ravi Patel-Shah' });
    tenant.removeMembers(group('finance'), [user('Eva Kowalska')]);
    tenant.updateUser(user('Noah Fischer'), { accountEnabled: false });
    tenant.updateUser(user('Sofia Rossi'), { displayName: HOSTILE_NAME });
    tenant.updateGroup(group('finance'), { displayName: 'Finance & Legal' });
    await sync.cycle({}, 'sync-now');
    admin = new Browser(stack.app.url);
    await admin.signIn(stack.people.admin.email);
  }, 240_000);
  afterAll(async () => {
    await sync?.terminate();
    await stack?.stop();
  });

  const lines = (html: string) => [...html.matchAll(/<li data-event="([\w.]+)"><time[^>]*>[^<]*<\/time> <span>([^<]*)<\/span> <span class="muted small">([^<]*)<\/span>/g)].map((m) => ({ type: m[1]!, text: m[2]!, cause: m[3]! }));

  it("a user's history says when and why: added by which cycle, joined which group, changed what, left", async () => {
    const ravi = await admin.request(paths.userHistory(connectionId, await hookId(user('Ravi Patel'))));
    expect(ravi.status).toBe(200);
    const history = lines(ravi.text);
    expect(history.map((line) => line.text)).toEqual([
      'Changed in Entra: name from “Ravi Patel” to “Ravi Patel-Shah”',
      'Joined Finance &amp; Legal',
      'Added to Hook',
    ]);
    expect(history[0]!.cause).toMatch(/^Sync of \d{4}-\d\d-\d\d \d\d:\d\d UTC \((full read|changes), Sync now\)$/);

    const eva = lines((await admin.request(paths.userHistory(connectionId, await hookId(user('Eva Kowalska'))))).text);
    expect(eva.map((line) => line.text)).toEqual(['Removed from Hook: In no synced group', 'Left Finance &amp; Legal', 'Joined Finance &amp; Legal', 'Added to Hook']);
    const noah = lines((await admin.request(paths.userHistory(connectionId, await hookId(user('Noah Fischer'))))).text);
    expect(noah[0]!.text).toBe('Account disabled in Entra: no longer an active Hook user');
  });

  it("a group's history: chosen, renamed, who joined and left", async () => {
    const financeId = (await db().selectFrom('synced_groups').select('id').where('group_id', '=', group('finance')).executeTakeFirstOrThrow()).id;
    const page = await admin.request(paths.groupHistory(connectionId, financeId));
    expect(page.status).toBe(200);
    const texts = lines(page.text).map((line) => line.text);
    expect(texts[0]).toBe('Renamed in Entra: name from “Finance” to “Finance &amp; Legal”');
    expect(texts).toContain('Eva Kowalska left');
    expect(texts.filter((text) => text.endsWith(' joined')).sort()).toEqual(['Eva Kowalska joined', 'Noah Fischer joined', 'Ravi Patel-Shah joined']);
    expect(texts.at(-1)).toBe('Chosen for sync');
    expect(lines(page.text).at(-1)!.cause).toBe('By an admin');
  });

  it('the Sync runs tab lists each cycle with its counts, newest first', async () => {
    const tab = await admin.request(paths.runs(connectionId), { headers: { 'HX-Request': 'true' } });
    expect(tab.status).toBe(200);
    const rows = [...tab.text.matchAll(/<td data-label="Users">([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toBe('0 added, 3 updated, 1 removed');
    expect(rows[1]).toMatch(/^\d+ added, 0 updated, 0 removed$/);
    expect(tab.text).toContain('Full read, Sync now');
    // Without htmx it is the Integrations page with the pane on that tab.
    const plain = await admin.request(paths.runs(connectionId));
    expect([plain.status, plain.headers.get('location')]).toEqual([303, paths.pane(connectionId, 'runs')]);
  });

  it('exports every active user as CSV: all of them, quoted as RFC 4180 says, no formula a spreadsheet would run', async () => {
    const answer = await admin.request(paths.usersCsv(connectionId));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(answer.headers.get('content-disposition')).toMatch(/^attachment; filename="hook-users-\d{4}-\d\d-\d\d\.csv"$/);
    const [header, ...rows] = parseCsv(answer.text.replace(/^\ufeff/, ''));
    expect(header).toEqual(CSV_HEADER);
    const active = await db().selectFrom('directory_users').select(['id', 'display_name']).where('connection_id', '=', connectionId).where('removed_at', 'is', null).execute();
    expect(rows.map((row) => row[0]).sort()).toEqual(active.map((row) => row.id).sort());
    const sofia = rows.find((row) => row[1] === user('Sofia Rossi'))!;
    expect(sofia[2]).toBe(`'${HOSTILE_NAME}`); // quoted, its comma kept, and never a formula
    expect(rows.find((row) => row[1] === user('Ravi Patel'))![9]).toBe('Finance & Legal');
    for (const value of ['=1+1', '+1', '-1', '@SUM(A1)', 'plain']) expect(csvField(value).startsWith("'") || csvField(value) === 'plain').toBe(true);
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
  });
});

import { randomUUID } from 'node:crypto';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { createWebMetrics, serveMetrics } from '../../web/metrics.js';
import { listen } from '../../web/server.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** Prometheus lines of one metric, as `labels → value`. */
function series(text: string, name: string): Map<string, number> {
  const rows = text.split('\n').filter((line) => line.startsWith(`${name}{`));
  return new Map(rows.map((line) => [line.slice(name.length, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]));
}

describe('the web process\'s metrics', () => {
  let database: TestDatabase;
  let metrics: ReturnType<typeof createWebMetrics>;
  let endpoint: Awaited<ReturnType<typeof serveMetrics>>;
  const scrape = async () => (await fetch(`http://127.0.0.1:${endpoint.port}/metrics`)).text();

  beforeAll(async () => {
    database = await createTestDatabase();
    metrics = createWebMetrics(database.db);
    endpoint = await serveMetrics(metrics, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await endpoint.close();
    await database.drop();
  });

  it('reports each live connection\'s state from PostgreSQL at every scrape, and forgets a disconnected one', async () => {
    const db = database.db;
    const acme = await createOrgCommand(db, 'metrics-acme', 'Acme');
    const globex = await createOrgCommand(db, 'metrics-globex', 'Globex');
    const healthy = await upsertConnection(db, { orgId: acme, tenantId: '11111111-1111-1111-1111-111111111111', tenantName: 'Acme', verifiedDomains: [] });
    const revoked = await upsertConnection(db, { orgId: globex, tenantId: '22222222-2222-2222-2222-222222222222', tenantName: 'Globex', verifiedDomains: [] });
    const okAt = new Date('2026-12-01T10:00:00Z');
    await db.insertInto('sync_runs').values([
      { id: randomUUID(), connection_id: healthy, trigger: 'schedule', status: 'ok', finished_at: okAt },
      { id: randomUUID(), connection_id: healthy, trigger: 'schedule', status: 'partial', finished_at: new Date('2026-12-01T11:00:00Z') }, // a later cycle that missed a group is no success
      { id: randomUUID(), connection_id: revoked, trigger: 'schedule', status: 'partial', finished_at: null },
    ]).execute();
    await db.updateTable('entra_connections').set({ pending_removals: 3 }).where('id', '=', healthy).execute();
    await db.updateTable('entra_connections').set({ status: 'needs_reconnect' }).where('id', '=', revoked).execute();
    await db.insertInto('synced_groups').values([
      { connection_id: healthy, group_id: randomUUID(), display_name: 'Sales', last_error: 'Graph answered 503' },
      { connection_id: healthy, group_id: randomUUID(), display_name: 'Ops' },
    ]).execute();

    const text = await scrape();
    const at = (org: string, connection: string) => `{org_id="${org}",connection_id="${connection}"}`;
    expect(series(text, 'hook_connection_last_successful_cycle_timestamp_seconds')).toEqual(new Map([[at(acme, healthy), okAt.getTime() / 1000], [at(globex, revoked), 0]]));
    expect(series(text, 'hook_connection_removals_held')).toEqual(new Map([[at(acme, healthy), 3], [at(globex, revoked), 0]]));
    expect(series(text, 'hook_connection_needs_reconnect')).toEqual(new Map([[at(acme, healthy), 0], [at(globex, revoked), 1]]));
    expect(series(text, 'hook_connection_groups_failing')).toEqual(new Map([[at(acme, healthy), 1], [at(globex, revoked), 0]]));
    expect(series(text, 'hook_connections')).toEqual(new Map([['{status="connected"}', 1], ['{status="needs_reconnect"}', 1]]));
    expect(text).not.toMatch(/Acme|Globex|Sales/); // ids only, never a customer's names

    await db.updateTable('entra_connections').set({ status: 'disconnected' }).where('id', '=', revoked).execute();
    const after = await scrape();
    expect([...series(after, 'hook_connection_needs_reconnect').keys()]).toEqual([at(acme, healthy)]);
    expect(series(after, 'hook_connections')).toEqual(new Map([['{status="connected"}', 1]]));
  });

  it('labels request latency by route pattern, so the ids in a path never become labels', async () => {
    const app = express();
    app.use(metrics.observe);
    app.get('/org/:org/groups/:group', (_req, res) => void res.status(200).send('ok'));
    const server = await listen(app, 0, '127.0.0.1');
    try {
      for (const group of ['a1b2c3', 'd4e5f6']) await fetch(`http://127.0.0.1:${server.port}/org/acme/groups/${group}`);
      await fetch(`http://127.0.0.1:${server.port}/no/such/page-9f8e7d`);
    } finally {
      await server.close();
    }
    const counts = series(await scrape(), 'hook_web_request_duration_seconds_count');
    expect(counts.get('{method="GET",route="/org/:org/groups/:group",status="200"}')).toBe(2);
    expect(counts.get('{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect([...counts.keys()].join()).not.toMatch(/a1b2c3|d4e5f6|9f8e7d|acme/);
  });

  it('answers only GET /metrics on its port', async () => {
    const base = `http://127.0.0.1:${endpoint.port}`;
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/metrics?x=1`)).status).toBe(404);
  });
});

import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookActivities } from '../../activities/webhooks/index.js';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { createWebhookEndpoint } from '../../db/repositories/webhooks.js';
import type { Db } from '../../db/client.js';
import type { Database } from '../../db/schema.js';
import { createEventsListener, type EventsListener } from '../../lib/events-listener.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { testWebhookSecrets } from '../support/secrets.js';

/** Long enough that a test still waiting for it has failed (vitest's timeout comes first). */
const NEVER_MS = 600_000;

/**
 * A webhook delivery waiting for its org's next event, against real PostgreSQL and its NOTIFY:
 * it must wake for an event that commits at any moment, without its fallback look (made
 * longer here than the test may take).
 */
describe('a delivery waiting for events', () => {
  let database: TestDatabase;
  let listener: EventsListener;
  let acme: { orgId: string; connectionId: string; endpointId: string };
  let globexConnection: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    listener = createEventsListener(database.url);
    const orgId = await createOrgCommand(database.db, 'acme-waiting', 'Acme');
    const connectionId = await upsertConnection(database.db, { orgId, tenantId: randomUUID(), tenantName: 'Acme', verifiedDomains: [] });
    const { id: endpointId } = await createWebhookEndpoint(database.db, { orgId, url: 'https://hooks.acme.example/directory', eventTypes: [], createdBy: null }, testWebhookSecrets);
    acme = { orgId, connectionId, endpointId };
    const globex = await createOrgCommand(database.db, 'globex-waiting', 'Globex');
    globexConnection = await upsertConnection(database.db, { orgId: globex, tenantId: randomUUID(), tenantName: 'Globex', verifiedDomains: [] });
  });
  afterAll(async () => {
    await listener.close();
    await database.drop();
  });

  const addUser = (connectionId: string) =>
    database.db.insertInto('directory_users').values({ connection_id: connectionId, user_id: randomUUID(), display_name: 'New' }).execute();
  /** waitForEvents as Temporal runs it, and whether it has returned yet. */
  function waiting(db: Db = database.db) {
    const activities = createWebhookActivities({ db, listener, lookAgainMs: NEVER_MS, secrets: testWebhookSecrets });
    let returned = false;
    const done = new MockActivityEnvironment().run((id: string) => activities.waitForEvents(id, NEVER_MS), acme.endpointId).finally(() => (returned = true));
    return { done, returned: () => returned };
  }
  /** Delivered up to the feed's end: the endpoint's position moves to it. */
  async function caughtUp() {
    const last = await database.db.selectFrom('directory_events').select(['tx', 'id']).where('org_id', '=', acme.orgId).orderBy('tx', 'desc').orderBy('id', 'desc').executeTakeFirstOrThrow();
    await database.db.updateTable('webhook_endpoints').set({ position_tx: String(last.tx), position_id: String(last.id) }).where('id', '=', acme.endpointId).execute();
  }

  it('a notification that comes between the look at the feed and the wait still wakes it', async () => {
    const watch = await listener.watch(acme.orgId);
    try {
      await addUser(acme.connectionId); // committed after the look, before the wait
      await new Promise((resolve) => setTimeout(resolve, 200)); // its notification has arrived
      await watch.wait(NEVER_MS);
    } finally {
      watch.stop();
    }
    await caughtUp();
  });

  it('wakes on its org’s commit, not on another org’s', async () => {
    const wait = waiting();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await addUser(globexConnection);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(wait.returned()).toBe(false);
    await addUser(acme.connectionId);
    await wait.done;
    await caughtUp();
  });

  it('an event of its org held back by another org’s open transaction is delivered when that transaction ends, though no notification of its org follows', async () => {
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query(`insert into directory_users (connection_id, user_id, display_name) values ($1, $2, 'Long')`, [globexConnection, randomUUID()]);
      await addUser(acme.connectionId); // committed, notified, and held back behind the open transaction
      const wait = waiting();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(wait.returned()).toBe(false);
      await other.query('commit');
      await wait.done;
    } finally {
      await other.end();
    }
  });

  it('looks less and less often while another org’s transaction holds its events back, and delivers when it ends', async () => {
    await caughtUp();
    // The delivery's queries, counted: a look at the feed is the one that reads directory_events.
    let looks = 0;
    const counted = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }),
      log: (event) => {
        if (event.level === 'query' && event.query.sql.includes('directory_events')) looks += 1;
      },
    });
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query(`insert into directory_users (connection_id, user_id, display_name) values ($1, $2, 'Minute-long')`, [globexConnection, randomUUID()]);
      await addUser(acme.connectionId);
      const wait = waiting(counted);
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect(wait.returned()).toBe(false);
      // Every 100 ms that would be 40 looks; doubling from 100 ms up to 1.6 s, looks at 0, 0.1,
      // 0.3, 0.7, 1.5 and 3.1 s.
      expect(looks).toBeGreaterThanOrEqual(5);
      expect(looks).toBeLessThanOrEqual(8);
      await other.query('commit');
      await wait.done;
    } finally {
      await other.end();
      await counted.destroy();
    }
  });
});

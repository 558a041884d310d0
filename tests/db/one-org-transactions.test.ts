import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commitSyncRun } from '../../activities/sync/commit.js';
import { createSaveActivities } from '../../activities/selection/save.js';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { disconnectConnection } from '../../db/repositories/directory.js';
import { eventsAfter, type FeedPosition } from '../../db/repositories/events.js';
import type { Db } from '../../db/client.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * The feed waits for transactions still running (migration 0013), but an org's feed does not
 * wait for a long transaction that promised to write another org's events only (0017): a hostile
 * or merely large tenant's first sync, disconnect or save cannot hold back everyone's webhooks.
 */
describe('transactions that write one org’s events', () => {
  let database: TestDatabase;
  let acme: { orgId: string; busy: string; other: string };
  let globex: { orgId: string; connectionId: string };
  const clients: pg.Client[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    const acmeOrg = await createOrgCommand(database.db, 'acme-one-org', 'Acme');
    const globexOrg = await createOrgCommand(database.db, 'globex-one-org', 'Globex');
    const connect = (orgId: string) => upsertConnection(database.db, { orgId, tenantId: randomUUID(), tenantName: 'Tenant', verifiedDomains: [] });
    acme = { orgId: acmeOrg, busy: await connect(acmeOrg), other: await connect(acmeOrg) };
    globex = { orgId: globexOrg, connectionId: await connect(globexOrg) };
  });
  // A session a test left in a transaction (say, when a check failed) ends it, rolled back.
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.end()));
  });
  afterAll(async () => {
    await database.drop();
  });

  async function client(): Promise<pg.Client> {
    const opened = new pg.Client({ connectionString: database.url });
    await opened.connect();
    clients.push(opened);
    return opened;
  }
  /** A change that commits at once: a new user of this connection (a `user.added` event). */
  const addUser = (connectionId: string) =>
    database.db.insertInto('directory_users').values({ connection_id: connectionId, user_id: randomUUID(), display_name: 'Quick' }).execute();
  /** An org's feed as a reader who last stood at `after` sees it now. */
  const feed = async (orgId: string, after?: FeedPosition) => (await eventsAfter(database.db, orgId, { after, limit: 1_000 })).map((event) => event.type);
  const end = async (orgId: string): Promise<FeedPosition | undefined> => (await eventsAfter(database.db, orgId, { limit: 1_000 })).at(-1);

  /**
   * While `hold` keeps a transaction of Acme's busy connection open and written to: Globex's
   * change shows in Globex's feed at once, and Acme's own change (on its other connection) waits
   * behind it, as it must. Then `release` lets it end.
   */
  async function expectOnlyAcmeHeldBack(hold: () => Promise<{ release: () => Promise<void> }>) {
    const [acmeFrom, globexFrom] = [await end(acme.orgId), await end(globex.orgId)];
    const { release } = await hold();
    try {
      await addUser(globex.connectionId);
      await addUser(acme.other);
      expect(await feed(globex.orgId, globexFrom)).toEqual(['user.added']);
      expect(await feed(acme.orgId, acmeFrom)).toEqual([]);
    } finally {
      await release();
    }
    expect((await feed(acme.orgId, acmeFrom)).at(-1)).toBe('user.added');
  }

  /**
   * A row of Acme's held FOR UPDATE, by a transaction that promised Acme's events only (a row lock
   * needs an xid, and an xid without a promise would hold back every org's feed by itself).
   */
  async function lockRow(table: 'entra_connections' | 'synced_groups', where: string, value: string) {
    const locker = await client();
    await locker.query('begin');
    await locker.query('select hook_events_of_one_org($1)', [acme.busy]);
    await locker.query(`select 1 from ${table} where ${where} = $1 for update`, [value]);
    return locker;
  }
  /** Starts a product transaction on a connection of its own; returns once it has written and waits for the lock. */
  async function startWaiting(transaction: (db: Db) => Promise<unknown>, locker: pg.Client) {
    let settled = false;
    const running = database.db
      .connection()
      .execute(transaction)
      .finally(() => (settled = true));
    for (;;) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and backend_xid is not null and wait_event_type = 'Lock'`.execute(database.db);
      if (rows[0]!.n > 0) break;
      if (settled) throw new Error(`the transaction ended without waiting for the lock: ${JSON.stringify(await running)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { release: async () => void (await locker.query('commit'), await running) };
  }

  it('a promise holds back its own org’s feed only; a transaction without one holds back every org’s', async () => {
    const promised = await client();
    await expectOnlyAcmeHeldBack(async () => {
      await promised.query('begin');
      await promised.query('select hook_events_of_one_org($1)', [acme.busy]);
      await promised.query(`insert into directory_users (connection_id, user_id, display_name) values ($1, $2, 'Long')`, [acme.busy, randomUUID()]);
      return { release: async () => void (await promised.query('commit')) };
    });

    const unpromised = await client();
    const globexFrom = await end(globex.orgId);
    await unpromised.query('begin');
    await unpromised.query(`insert into directory_users (connection_id, user_id, display_name) values ($1, $2, 'Long')`, [acme.busy, randomUUID()]);
    await addUser(globex.connectionId);
    expect(await feed(globex.orgId, globexFrom)).toEqual([]);
    await unpromised.query('commit');
    expect(await feed(globex.orgId, globexFrom)).toEqual(['user.added']);
  });

  it('a promise after the first write, for a second org, or broken by another org’s event is refused, and the write rolls back', async () => {
    const session = await client();
    await session.query('begin');
    await session.query(`insert into directory_users (connection_id, user_id, display_name) values ($1, $2, 'First')`, [acme.busy, randomUUID()]);
    await expect(session.query('select hook_events_of_one_org($1)', [acme.busy])).rejects.toThrow(/before its first write/);
    await session.query('rollback');

    await session.query('begin');
    await session.query('select hook_events_of_one_org($1)', [acme.busy]);
    await session.query('select hook_events_of_one_org($1)', [acme.other]); // the same org: the same promise
    await expect(session.query('select hook_events_of_one_org($1)', [globex.connectionId])).rejects.toThrow(/events of one org only/);
    await session.query('rollback');

    const globexFrom = await end(globex.orgId);
    await session.query('begin');
    await session.query('select hook_events_of_one_org($1)', [acme.busy]);
    await expect(session.query(`insert into directory_users (connection_id, user_id, display_name) values ($1, $2, 'Sneaky')`, [globex.connectionId, randomUUID()])).rejects.toThrow(
      `promised to write one org's events only, not those of org ${globex.orgId}`,
    );
    await session.query('rollback');
    expect(await feed(globex.orgId, globexFrom)).toEqual([]);
  });

  it("a sync's commit promises: other orgs' feeds do not wait for it", async () => {
    const locker = await lockRow('entra_connections', 'id', acme.busy);
    // A run whose read failed still writes its run, then waits for the connection's row.
    const options = { trigger: 'sync-now' as const, readFailed: true, confirmRemovals: false, maxRemovalShare: 0.1, missingGraceMs: 0, needsReconnect: false };
    await expectOnlyAcmeHeldBack(() => startWaiting((db) => commitSyncRun(db, acme.busy, randomUUID(), options), locker));
  });

  it("a save and a disconnect promise: other orgs' feeds do not wait for them", async () => {
    // A save takes a group out (its removal announced), and waits for the group's row held here.
    const [held, kept] = [randomUUID(), randomUUID()];
    await database.db.insertInto('synced_groups').values([{ connection_id: acme.busy, group_id: held, display_name: 'Held' }, { connection_id: acme.busy, group_id: kept, display_name: 'Kept' }]).execute();
    const groupLocker = await lockRow('synced_groups', 'group_id', held);
    const { selection_version: version } = await database.db.selectFrom('entra_connections').select('selection_version').where('id', '=', acme.busy).executeTakeFirstOrThrow();
    // Saving touches the database only (Temporal is told afterwards, by another activity).
    const save = (db: Db) => createSaveActivities({ db, temporal: { client: undefined as never, taskQueue: 'unused' } }).saveSelection(acme.busy, version, randomUUID(), [kept]);
    await expectOnlyAcmeHeldBack(() => startWaiting(save, groupLocker));

    // A disconnect writes its users' removal, then waits for the connection's row.
    const locker = await lockRow('entra_connections', 'id', acme.busy);
    await expectOnlyAcmeHeldBack(() => startWaiting((db) => disconnectConnection(db, acme.busy), locker));
  });
});

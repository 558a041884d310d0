import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * A connection's users, edges and memberships belong to a connection that exists, checked once
 * per statement instead of by a foreign key per row (migration 0016): an unknown connection is
 * refused and nothing is written, a row cannot move to another connection, deleting a connection
 * takes its rows along, and a delete racing an insert leaves no row behind.
 */
describe('rows of a connection', () => {
  let database: TestDatabase;
  let orgId: string;
  const db = () => database.db;
  const newConnection = () => upsertConnection(db(), { orgId, tenantId: randomUUID(), tenantName: 'Rows Tenant', verifiedDomains: [] });
  const user = (connectionId: string, userId = randomUUID()) => ({ connection_id: connectionId, user_id: userId, display_name: 'Ada', mail: null, user_principal_name: `${userId}@example.com`, user_type: 'Member', account_enabled: true });
  const count = async (table: 'directory_users' | 'group_edges' | 'group_memberships', connectionId: string) =>
    Number((await db().selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', connectionId).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    database = await createTestDatabase();
    orgId = await createOrgCommand(database.db, 'rows-org', 'Rows Org');
  });
  afterAll(async () => {
    await database.drop();
  });

  it('an unknown connection is refused with a clear error, and nothing of the statement is written', async () => {
    const known = await newConnection();
    const unknown = randomUUID();
    await expect(db().insertInto('directory_users').values([user(known), user(unknown)]).execute()).rejects.toThrow('insert on table "directory_users" names an Entra connection that does not exist');
    await expect(db().insertInto('group_edges').values({ connection_id: unknown, group_id: randomUUID(), member_id: randomUUID(), member_type: 'user' }).execute()).rejects.toThrow(
      'insert on table "group_edges" names an Entra connection that does not exist',
    );
    await expect(db().insertInto('group_memberships').values({ connection_id: unknown, group_id: randomUUID(), user_id: randomUUID() }).execute()).rejects.toThrow(
      'insert on table "group_memberships" names an Entra connection that does not exist',
    );
    expect(await count('directory_users', known)).toBe(0);
    for (const table of ['directory_users', 'group_edges', 'group_memberships'] as const) expect(await count(table, unknown)).toBe(0);
  });

  it('a row cannot move to another connection', async () => {
    const [from, to] = [await newConnection(), await newConnection()];
    const ada = user(from);
    await db().insertInto('directory_users').values(ada).execute();
    await expect(db().updateTable('directory_users').set({ connection_id: to }).where('user_id', '=', ada.user_id).execute()).rejects.toThrow('a row of "directory_users" cannot move to another Entra connection');
    // Naming the same connection again is no move.
    await db().updateTable('directory_users').set({ connection_id: from, display_name: 'Ada L.' }).where('user_id', '=', ada.user_id).execute();
    expect(await count('directory_users', from)).toBe(1);
  });

  it('deleting a connection takes its users, edges and memberships along, and only its own', async () => {
    const [gone, kept] = [await newConnection(), await newConnection()];
    for (const connectionId of [gone, kept]) {
      const ada = user(connectionId);
      const groupId = randomUUID();
      await db().insertInto('directory_users').values(ada).execute();
      await db().insertInto('group_edges').values({ connection_id: connectionId, group_id: groupId, member_id: ada.user_id, member_type: 'user' }).execute();
      await db().insertInto('group_memberships').values({ connection_id: connectionId, group_id: groupId, user_id: ada.user_id }).execute();
    }
    await db().deleteFrom('entra_connections').where('id', '=', gone).execute();
    for (const table of ['directory_users', 'group_edges', 'group_memberships'] as const) {
      expect(await count(table, gone)).toBe(0);
      expect(await count(table, kept)).toBe(1);
    }
  });

  it('a delete racing a commit waits for it, then takes what it wrote; an insert racing a delete waits, then is refused', async () => {
    const [writer, deleter] = [new pg.Client({ connectionString: database.url }), new pg.Client({ connectionString: database.url })];
    await Promise.all([writer.connect(), deleter.connect()]);
    try {
      const first = await newConnection();
      await writer.query('begin');
      await writer.query('insert into directory_users (connection_id, user_id, user_principal_name, user_type, account_enabled) values ($1, $2, $3, $4, true)', [first, randomUUID(), 'x@example.com', 'Member']);
      let deleted = false;
      const deleting = deleter.query('delete from entra_connections where id = $1', [first]).then(() => (deleted = true));
      await waitUntilBlocked(deleter);
      expect(deleted).toBe(false);
      await writer.query('commit');
      await deleting;
      expect(await count('directory_users', first)).toBe(0);

      const second = await newConnection();
      await deleter.query('begin');
      await deleter.query('delete from entra_connections where id = $1', [second]);
      // Its answer is taken at once: it may come before the deleter's commit is acknowledged.
      const inserting = writer
        .query('insert into directory_users (connection_id, user_id, user_principal_name, user_type, account_enabled) values ($1, $2, $3, $4, true)', [second, randomUUID(), 'y@example.com', 'Member'])
        .then(() => 'inserted', (error: Error) => error.message);
      await waitUntilBlocked(writer);
      await deleter.query('commit');
      expect(await inserting).toMatch('names an Entra connection that does not exist');
      expect(await count('directory_users', second)).toBe(0);
    } finally {
      await Promise.all([writer.end(), deleter.end()]);
    }

    /** Until the client's backend waits for a lock another transaction holds. */
    async function waitUntilBlocked(client: pg.Client): Promise<void> {
      const pid = (client as unknown as { processID: number }).processID;
      for (let i = 0; i < 200; i++) {
        const rows = await database.db.selectNoFrom((eb) => eb.fn<number[]>('pg_blocking_pids', [eb.val(pid)]).as('blockers')).execute();
        if (rows[0]!.blockers.length > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error('the statement never waited for the other transaction');
    }
  });

  it("new users' Hook ids are UUID version 7, growing with the time they were made", async () => {
    const connectionId = await newConnection();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const row = await db().insertInto('directory_users').values(user(connectionId)).returning('id').executeTakeFirstOrThrow();
      ids.push(row.id);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    const millis = parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16);
    expect(Math.abs(millis - Date.now())).toBeLessThan(60_000);
  });
});

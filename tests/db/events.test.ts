import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { deleteEventsBefore, eventsAfter, feedEnd, isBehindHorizon, tagEvents, type EventRow, type FeedPosition } from '../../db/repositories/events.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * The outbox as PostgreSQL writes it (migration 0013): each write to the directory is its own
 * events in the same transaction, and the feed never shows an event behind a reader's position.
 */
describe('directory events', () => {
  let database: TestDatabase;
  let orgId: string;
  let otherOrgId: string;
  let connectionId: string;
  let position: FeedPosition | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    orgId = await createOrgCommand(database.db, 'events-org', 'Events Org');
    otherOrgId = await createOrgCommand(database.db, 'other-org', 'Other Org');
    connectionId = await upsertConnection(database.db, { orgId, tenantId: randomUUID(), tenantName: 'Events Tenant', verifiedDomains: [] });
  });
  afterAll(async () => {
    await database.drop();
  });

  /** The org's events since the last call, as type and the interesting part of their data. */
  async function newEvents(): Promise<EventRow[]> {
    const events = await eventsAfter(database.db, orgId, { after: position, limit: 1_000 });
    if (events.length > 0) position = { tx: events.at(-1)!.tx, id: events.at(-1)!.id };
    return events;
  }
  const types = async () => (await newEvents()).map((event) => event.type);
  const db = () => database.db;
  const entraUser = randomUUID();
  const entraGroup = randomUUID();
  const updateUser = (set: Record<string, unknown>) => db().updateTable('directory_users').set(set).where('user_id', '=', entraUser).execute();

  it('a user: added, updated with what changed, deactivated, reactivated, removed, back with the same Hook id', async () => {
    await db().insertInto('directory_users').values({ connection_id: connectionId, user_id: entraUser, display_name: 'Ada', mail: 'ada@example.com', user_principal_name: 'ada@example.com', user_type: 'Member', account_enabled: true }).execute();
    const [added] = await newEvents();
    const hookId = (await db().selectFrom('directory_users').select('id').where('user_id', '=', entraUser).executeTakeFirstOrThrow()).id;
    expect(added).toMatchObject({ type: 'user.added', connection_id: connectionId, run_id: null, data: { returning: false, user: { id: hookId, entraId: entraUser, displayName: 'Ada', email: 'ada@example.com', isDisabled: false, status: 'active' } } });

    await updateUser({ display_name: 'Ada Lovelace', mail: 'ada.lovelace@example.com' });
    const [updated] = await newEvents();
    expect(updated).toMatchObject({ type: 'user.updated', data: { user: { id: hookId, displayName: 'Ada Lovelace' }, changes: { displayName: { from: 'Ada', to: 'Ada Lovelace' }, email: { from: 'ada@example.com', to: 'ada.lovelace@example.com' } } } });
    expect(Object.keys((updated!.data as { changes: object }).changes).sort()).toEqual(['displayName', 'email']);

    await updateUser({ account_enabled: false });
    expect(await types()).toEqual(['user.deactivated']);
    await updateUser({ account_enabled: true, display_name: 'Ada L.' });
    expect((await types()).sort()).toEqual(['user.reactivated', 'user.updated']);
    await updateUser({ updated_at: new Date() }); // nothing an API client sees changed
    expect(await types()).toEqual([]);
    await updateUser({ removed_at: new Date(), removed_reason: 'In no synced group' });
    const [removed] = await newEvents();
    expect(removed).toMatchObject({ type: 'user.removed', data: { user: { id: hookId, status: 'removed', removedReason: 'In no synced group' } } });
    await updateUser({ removed_at: null, removed_reason: null });
    expect(await newEvents()).toMatchObject([{ type: 'user.added', data: { returning: true, user: { id: hookId, status: 'active' } } }]);
  });

  it("a synced group: added with the members Hook knows, renamed, its memberships, and removed with its members' removal first", async () => {
    await db().insertInto('group_memberships').values({ connection_id: connectionId, group_id: entraGroup, user_id: entraUser }).execute();
    expect(await types()).toEqual([]); // not a synced group (yet): nothing an API client can see
    await db().insertInto('synced_groups').values({ connection_id: connectionId, group_id: entraGroup, display_name: 'Finance' }).execute();
    const groupId = (await db().selectFrom('synced_groups').select('id').where('group_id', '=', entraGroup).executeTakeFirstOrThrow()).id;
    expect(await newEvents()).toMatchObject([
      { type: 'group.added', data: { group: { id: groupId, entraId: entraGroup, name: 'Finance' } } },
      { type: 'membership.added', data: { group: { id: groupId }, user: { entraId: entraUser } } },
    ]);
    await db().updateTable('synced_groups').set({ display_name: 'Finance & Legal', member_count: 1 }).execute();
    await db().updateTable('synced_groups').set({ member_count: 2 }).execute(); // not a rename
    expect(await newEvents()).toMatchObject([{ type: 'group.renamed', data: { group: { name: 'Finance & Legal' }, changes: { name: { from: 'Finance', to: 'Finance & Legal' } } } }]);
    await db().deleteFrom('group_memberships').execute();
    await db().insertInto('group_memberships').values({ connection_id: connectionId, group_id: entraGroup, user_id: entraUser }).execute();
    expect(await types()).toEqual(['membership.removed', 'membership.added']);

    await db().deleteFrom('synced_groups').execute();
    expect(await types()).toEqual(['membership.removed', 'group.removed']);
    await db().deleteFrom('group_memberships').execute(); // the next commit drops them: already announced
    expect(await types()).toEqual([]);
  });

  it("a first sync's bulk of memberships (past 10,000 in one statement): the same events, in the same order, as a few", async () => {
    const groups = [randomUUID(), randomUUID()].sort();
    const users = Array.from({ length: 5_001 }, () => randomUUID());
    const drain = async () => {
      const events: EventRow[] = [];
      for (let page = await newEvents(); page.length > 0; page = await newEvents()) events.push(...page);
      return events;
    };
    await db().insertInto('synced_groups').values(groups.map((group_id, i) => ({ connection_id: connectionId, group_id, display_name: `Bulk ${i}` }))).execute();
    await drain();
    await db().insertInto('directory_users').values(users.map((user_id) => ({ connection_id: connectionId, user_id, display_name: null, mail: null, user_principal_name: `${user_id}@example.com`, user_type: 'Member', account_enabled: true }))).execute();
    await drain();
    const hookIds = new Map((await db().selectFrom('directory_users').select(['id', 'user_id']).where('user_id', 'in', users).execute()).map((row) => [row.user_id, row.id]));
    const pairs = groups.flatMap((group_id) => users.map((user_id) => ({ connection_id: connectionId, group_id, user_id })));
    await db().insertInto('group_memberships').values(pairs).execute();
    const added = await drain();
    const expected = [...pairs].sort((a, b) => a.group_id.localeCompare(b.group_id) || a.user_id.localeCompare(b.user_id));
    expect(added.map((event) => [event.type, (event.data as { group: { entraId: string } }).group.entraId, (event.data as { user: { id: string; entraId: string } }).user])).toEqual(
      expected.map((pair) => ['membership.added', pair.group_id, { id: hookIds.get(pair.user_id), entraId: pair.user_id }]),
    );
    // The trigger put the planner back as it found it.
    expect((await sql<{ enable_nestloop: string }>`show enable_nestloop`.execute(db())).rows[0]!.enable_nestloop).toBe('on');
    await db().deleteFrom('group_memberships').where('group_id', 'in', groups).execute();
    const removed = await drain();
    expect(removed).toHaveLength(pairs.length);
    expect(new Set(removed.map((event) => event.type))).toEqual(new Set(['membership.removed']));
    await db().deleteFrom('synced_groups').where('group_id', 'in', groups).execute();
    await drain();
  });

  it("a sync's settled status: failed, recovered, awaiting confirmation, consent revoked; running is not news", async () => {
    const status = (sync_status: 'idle' | 'running' | 'failing' | 'awaiting_confirmation' | 'needs_reconnect') => db().updateTable('entra_connections').set({ sync_status }).where('id', '=', connectionId).execute();
    for (const step of ['running', 'failing', 'running', 'failing', 'running', 'idle', 'idle', 'awaiting_confirmation', 'needs_reconnect', 'running', 'idle'] as const) await status(step);
    const events = await newEvents();
    expect(events.map((event) => [event.type, (event.data as { previousSyncStatus: string }).previousSyncStatus])).toEqual([
      ['sync.failed', 'idle'],
      ['sync.recovered', 'failing'],
      ['sync.awaiting_confirmation', 'idle'],
      ['sync.consent_revoked', 'awaiting_confirmation'],
      ['sync.recovered', 'needs_reconnect'],
    ]);
    expect(events[0]!.data).toMatchObject({ connection: { id: connectionId, tenantName: 'Events Tenant', syncStatus: 'failing' } });
  });

  it('names the cycle that wrote them; a rolled-back write leaves none; another org sees none of them', async () => {
    const runId = randomUUID();
    await db().transaction().execute(async (trx) => {
      await tagEvents(trx, runId);
      await trx.updateTable('directory_users').set({ display_name: 'Ada Byron' }).where('user_id', '=', entraUser).execute();
    });
    expect(await newEvents()).toMatchObject([{ type: 'user.updated', run_id: runId }]);
    await expect(
      db().transaction().execute(async (trx) => {
        await trx.updateTable('directory_users').set({ display_name: 'Nobody' }).where('user_id', '=', entraUser).execute();
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await types()).toEqual([]);
    expect(await eventsAfter(db(), otherOrgId, { limit: 1_000 })).toEqual([]);
    expect(await feedEnd(db(), otherOrgId)).toBeUndefined();
    expect(await feedEnd(db(), orgId)).toEqual(position);
  });

  it("an event committed late never lands behind a reader's position: the feed waits for the older transaction", async () => {
    const [older, newer] = [new pg.Client({ connectionString: database.url }), new pg.Client({ connectionString: database.url })];
    await Promise.all([older.connect(), newer.connect()]);
    try {
      await older.query('begin');
      await older.query(`insert into directory_users (connection_id, user_id, display_name) values ($1, $2, 'Older')`, [connectionId, randomUUID()]);
      await newer.query(`update directory_users set mail = 'newer@example.com' where user_id = $1`, [entraUser]); // commits at once
      expect(await types()).toEqual([]); // the newer one is held back while the older may still commit
      await older.query('commit');
      expect((await newEvents()).map((event) => event.type)).toEqual(['user.added', 'user.updated']);
    } finally {
      await Promise.all([older.end(), newer.end()]);
    }
  });

  it('retention: deleting old events moves the horizon, and a position behind it is told so', async () => {
    const first = (await eventsAfter(db(), orgId, { limit: 1 }))[0]!;
    expect(await isBehindHorizon(db(), first)).toBe(false);
    expect(await deleteEventsBefore(db(), new Date(Date.now() - 60_000))).toBe(0);
    const deleted = await deleteEventsBefore(db(), new Date(Date.now() + 60_000));
    expect(deleted).toBeGreaterThan(10);
    expect(await eventsAfter(db(), orgId, { limit: 10 })).toEqual([]);
    expect(await isBehindHorizon(db(), first)).toBe(true);
    expect(await isBehindHorizon(db(), position!)).toBe(false);
  });
});

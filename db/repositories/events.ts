import { sql, type Kysely } from 'kysely';
import { ONE_ORG_LOCKS } from '../migrations/0017_one_org_transactions.js';
import type { Database } from '../schema.js';

type Db = Kysely<Database>;

// The events feed over the outbox that migration 0013's triggers write. Positions are
// (tx, id): the writing transaction, then the event within it. Only transactions older than
// the oldest one of this database still running are read (the fence), so nothing can commit
// behind a position a reader has passed.

/** Where a reader of the feed stands: after this event. */
export interface FeedPosition {
  tx: string;
  id: string;
}

export interface EventRow extends FeedPosition {
  type: string;
  occurred_at: Date;
  connection_id: string;
  run_id: string | null;
  data: Record<string, unknown>;
}

export interface EventsFilter {
  after?: FeedPosition;
  connectionId?: string;
  types?: string[];
  limit: number;
}

/**
 * The fence: the oldest transaction of this database still running, else the next to start. It
 * is read before the events, in a statement of its own, so a transaction running when the events
 * are read was running here too, and stays behind the fence. Transactions of other databases on
 * the same server are not waited for (their xids are in the snapshot; pg_stat_activity tells
 * whose they are, for every session of the same role). The 32-bit backend_xid is matched against
 * the low half of the snapshot's 64-bit ids.
 *
 * An org's reader does not wait for a transaction that promised to write another org's events
 * only (`writeEventsOfOneOrg`): pg_locks shows, in one consistent look, the xid a transaction
 * holds and the promise it made. Without an org (the retention sweep), every one is waited for.
 */
async function fence(db: Db, orgId?: string): Promise<string> {
  const promisedElsewhere =
    orgId === undefined
      ? sql<boolean>`false`
      : sql<boolean>`exists (select 1 from locks p where p.virtualtransaction = x.virtualtransaction and ${promise('p')})
             and not exists (select 1 from locks p where p.virtualtransaction = x.virtualtransaction and ${promise('p')} and p.objid = hashtext(${orgId}::text)::oid)`;
  const row = await sql<{ fence: string }>`
    with snap as (select pg_current_snapshot() as s),
         here as (select backend_xid::text::bigint as xid32 from pg_stat_activity where datname = current_database() and backend_xid is not null),
         locks as materialized (select locktype, transactionid, virtualtransaction, mode, granted, classid, objid, objsubid from pg_locks),
         elsewhere as (
           select x.transactionid::text::bigint as xid32 from locks x
           where x.locktype = 'transactionid' and x.mode = 'ExclusiveLock' and x.granted and ${promisedElsewhere})
    select coalesce(
      (select min(x) from snap, pg_snapshot_xip(snap.s) as x
       where (x::text::numeric % 4294967296) in (select xid32 from here) and (x::text::numeric % 4294967296) not in (select xid32 from elsewhere)),
      (select pg_snapshot_xmax(s) from snap))::text as fence`.execute(db);
  return row.rows[0]!.fence;
}
/** A lock of pg_locks that is a promise to write one org's events only (migration 0017). */
const promise = (lock: string) => sql`${sql.ref(`${lock}.locktype`)} = 'advisory' and ${sql.ref(`${lock}.classid`)} = ${sql.lit(ONE_ORG_LOCKS)} and ${sql.ref(`${lock}.objsubid`)} = 2`;
const settled = (before: string) => sql<boolean>`tx < ${before}::xid8`;

/**
 * Promises that this transaction writes the events of this connection's org only, so that other
 * orgs' feeds need not wait for it: for a long one (a first sync's commit, a disconnect), the
 * difference between their webhooks arriving at once and a minute late. It must come before the
 * transaction's first write, and writing another org's events afterwards fails (0017).
 */
export async function writeEventsOfOneOrg(trx: Db, connectionId: string): Promise<void> {
  await sql`select hook_events_of_one_org(${connectionId}::uuid)`.execute(trx);
}

/** The events this transaction writes name the sync cycle that wrote them (hook_run_id() in 0013). */
export async function tagEvents(trx: Db, runId: string): Promise<void> {
  await sql`select set_config('hook.run_id', ${runId}, true)`.execute(trx);
}

/** An org's events after the filter's position, of its connection and types. */
function orgEvents(db: Db, orgId: string, filter: Omit<EventsFilter, 'limit'>) {
  let query = db.selectFrom('directory_events').where('org_id', '=', orgId);
  if (filter.after) query = query.where(sql<boolean>`(tx, id) > (${filter.after.tx}::xid8, ${filter.after.id}::bigint)`);
  if (filter.connectionId) query = query.where('connection_id', '=', filter.connectionId);
  if (filter.types && filter.types.length > 0) query = query.where('type', 'in', filter.types);
  return query;
}

/** An org's events after a position, oldest first. */
export async function eventsAfter(db: Db, orgId: string, filter: EventsFilter): Promise<EventRow[]> {
  const before = await fence(db, orgId);
  // By the columns, not the text the rows carry them as ('10' sorts before '9').
  return orgEvents(db, orgId, filter)
    .select([sql<string>`id::text`.as('id'), sql<string>`tx::text`.as('tx'), 'type', 'occurred_at', 'connection_id', 'run_id', 'data'])
    .where(settled(before))
    .orderBy(sql`directory_events.tx`)
    .orderBy(sql`directory_events.id`)
    .limit(filter.limit)
    .execute();
}

/**
 * What a waiting reader of the org's feed has after `filter.after`, under one fence: `ready`,
 * events it can read now; `heldBack`, events that have committed but the fence still holds back
 * (an older transaction of another org, without a promise, is running). No notification comes
 * for this org when that transaction ends, so a reader with only held-back events should look
 * again soon.
 */
export async function pendingEvents(db: Db, orgId: string, filter: Omit<EventsFilter, 'limit'>): Promise<{ ready: boolean; heldBack: boolean }> {
  const before = await fence(db, orgId);
  const pending = orgEvents(db, orgId, filter).select(sql`1`.as('one')).limit(1);
  const row = await db
    .selectNoFrom((eb) => [eb.exists(pending.where(settled(before))).as('ready'), eb.exists(pending.where(sql<boolean>`tx >= ${before}::xid8`)).as('heldBack')])
    .executeTakeFirstOrThrow();
  return { ready: Boolean(row.ready), heldBack: Boolean(row.heldBack) };
}

/** The position after an org's newest settled event (undefined: it has none). */
export async function feedEnd(db: Db, orgId: string): Promise<FeedPosition | undefined> {
  const before = await fence(db, orgId);
  return db
    .selectFrom('directory_events')
    .select([sql<string>`tx::text`.as('tx'), sql<string>`id::text`.as('id')])
    .where('org_id', '=', orgId)
    .where(settled(before))
    .orderBy(sql`directory_events.tx`, 'desc')
    .orderBy(sql`directory_events.id`, 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** True when events after `position` may have been deleted by the retention sweep. */
export async function isBehindHorizon(db: Db, position: FeedPosition): Promise<boolean> {
  const row = await db
    .selectFrom('directory_events_horizon')
    .select(sql<boolean>`(tx, id) > (${position.tx}::xid8, ${position.id}::bigint)`.as('behind'))
    .executeTakeFirst();
  return row?.behind ?? false;
}

/**
 * Deletes settled events older than `cutoff` and moves the horizon to the newest deleted, in one
 * transaction: a reader whose position is older learns it missed events (410), never silently.
 */
export async function deleteEventsBefore(db: Db, cutoff: Date): Promise<number> {
  const before = await fence(db);
  return db.transaction().execute(async (trx) => {
    const deleted = await sql<FeedPosition & { n: number }>`
      with gone as (delete from directory_events where occurred_at < ${cutoff} and ${settled(before)} returning tx, id)
      select (select count(*) from gone)::int as n, g.tx::text as tx, g.id::text as id from gone g order by g.tx desc, g.id desc limit 1`.execute(trx);
    const newest = deleted.rows[0];
    if (newest === undefined) return 0;
    await sql`insert into directory_events_horizon (one_row, tx, id) values (true, ${newest.tx}::xid8, ${newest.id}::bigint)
              on conflict (one_row) do update set tx = excluded.tx, id = excluded.id
              where (excluded.tx, excluded.id) > (directory_events_horizon.tx, directory_events_horizon.id)`.execute(trx);
    return newest.n;
  });
}

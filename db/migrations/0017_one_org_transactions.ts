import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

/**
 * A transaction that writes one org's events only no longer holds back every other org's feed.
 *
 * The feed reads only transactions older than the oldest one still running (0013), so a first
 * sync's commit (over a minute for 300,000 users) held back every org's feed and webhooks for
 * as long. A transaction can now say, before its first write, that it writes events of one org
 * only: it holds a shared advisory lock in the space below, keyed by the org, and readers of
 * another org's feed need not wait for it (db/repositories/events.ts). An event of any other org
 * it writes afterwards is refused, so the promise holds; it is checked against the lock itself.
 */
export const ONE_ORG_LOCKS = 1215258475; // 'Hook' in ASCII: the advisory-lock space (classid) of these promises

/** The promise this session's transaction holds, as a row of pg_locks (objid: the org's key). */
const HELD_PROMISE = sql.raw(`pg_locks l where l.locktype = 'advisory' and l.pid = pg_backend_pid() and l.classid = ${ONE_ORG_LOCKS} and l.objsubid = 2`);

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function hook_events_of_one_org(connection uuid) returns void language plpgsql as $$
    declare
      org uuid;
    begin
      -- An event written before the promise could be passed by another org's reader.
      if pg_current_xact_id_if_assigned() is not null then
        raise object_not_in_prerequisite_state using message = 'a transaction promises to write one org''s events before its first write';
      end if;
      select c.org_id into org from entra_connections c where c.id = connection;
      if org is null then
        return; -- no org to promise for: readers keep waiting for this transaction, as for any
      end if;
      if exists (select 1 from ${HELD_PROMISE} and l.objid <> hashtext(org::text)::oid) then
        raise object_not_in_prerequisite_state using message = 'a transaction promises to write the events of one org only';
      end if;
      perform pg_advisory_xact_lock_shared(${sql.lit(ONE_ORG_LOCKS)}, hashtext(org::text));
    end $$`.execute(db);

  // The notification trigger already visits each org a statement wrote events for.
  await sql`
    create or replace function hook_events_notify() returns trigger language plpgsql as $$
    declare
      org uuid;
      promised oid;
    begin
      select l.objid into promised from ${HELD_PROMISE};
      for org in select distinct org_id from new_rows loop
        if promised is not null and hashtext(org::text)::oid <> promised then
          raise integrity_constraint_violation using message = format('this transaction promised to write one org''s events only, not those of org %s', org);
        end if;
        perform pg_notify('hook_directory_events', org::text);
      end loop;
      return null;
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function hook_events_notify() returns trigger language plpgsql as $$
    declare
      org uuid;
    begin
      for org in select distinct org_id from new_rows loop
        perform pg_notify('hook_directory_events', org::text);
      end loop;
      return null;
    end $$`.execute(db);
  await sql`drop function hook_events_of_one_org(uuid)`.execute(db);
}

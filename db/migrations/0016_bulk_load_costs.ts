import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

/**
 * What a first sync's commit paid per row, paid per statement or not at all (each measured in
 * `docs/operators.md`):
 *
 * 1. The connection of every user, edge and membership was checked by a foreign key, one look-up
 *    and row lock per row: 700,000 of them in a 100,000-user first sync, about 2 s. A statement
 *    trigger now checks and locks the statement's connections once each (a connection being
 *    deleted waits, as it did for the key), and deleting a connection still takes its rows along.
 * 2. Hook's user ids were random, so each new user, and each of its events, went to a random
 *    place in their indexes. New ids now begin with the time they were made (UUID version 7, as
 *    RFC 9562 lays it out), and a commit inserts users in Entra id order: the ids, and the events'
 *    index entries, grow together.
 * 3. The events' age, used only by the retention sweep, is a BRIN index: events are written in
 *    time order, and a block range summary costs nothing per row.
 */
const CHECKED = ['directory_users', 'group_edges', 'group_memberships'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function hook_connections_exist() returns trigger language plpgsql as $$
    declare
      wanted bigint;
      locked bigint;
    begin
      select count(distinct connection_id) into wanted from new_rows;
      -- Locked as a foreign key would: a connection being deleted is waited for, then missing.
      with held as (select c.id from entra_connections c where c.id in (select connection_id from new_rows) for key share)
      select count(*) into locked from held;
      if locked < wanted then
        raise foreign_key_violation using message = format('insert on table "%s" names an Entra connection that does not exist', tg_table_name);
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create function hook_connection_fixed() returns trigger language plpgsql as $$
    begin
      if new.connection_id is distinct from old.connection_id then
        raise foreign_key_violation using message = format('a row of "%s" cannot move to another Entra connection', tg_table_name);
      end if;
      return new;
    end $$`.execute(db);
  for (const table of CHECKED) {
    await sql`alter table ${sql.table(table)} drop constraint ${sql.ref(`${table}_connection_id_fkey`)}`.execute(db);
    await sql`create trigger ${sql.ref(`${table}_connection_exists`)} after insert on ${sql.table(table)} referencing new table as new_rows for each statement execute function hook_connections_exist()`.execute(db);
    await sql`create trigger ${sql.ref(`${table}_connection_fixed`)} before update of connection_id on ${sql.table(table)} for each row execute function hook_connection_fixed()`.execute(db);
  }
  // Memberships first, as their events name the user and the group.
  await sql`
    create function hook_connections_deleted() returns trigger language plpgsql as $$
    begin
      delete from group_memberships where connection_id in (select id from old_rows);
      delete from group_edges where connection_id in (select id from old_rows);
      delete from directory_users where connection_id in (select id from old_rows);
      return null;
    end $$`.execute(db);
  await sql`create trigger connections_deleted after delete on entra_connections referencing old table as old_rows for each statement execute function hook_connections_deleted()`.execute(db);

  await sql`
    create function hook_uuid_v7() returns uuid language sql volatile as $$
      select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1), 'hex')::uuid
    $$`.execute(db);
  await sql`alter table directory_users alter column id set default hook_uuid_v7()`.execute(db);

  await sql`drop index directory_events_age`.execute(db);
  await sql`create index directory_events_age on directory_events using brin (occurred_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index directory_events_age`.execute(db);
  await sql`create index directory_events_age on directory_events (occurred_at)`.execute(db);
  await sql`alter table directory_users alter column id set default gen_random_uuid()`.execute(db);
  await sql`drop function hook_uuid_v7()`.execute(db);
  await sql`drop trigger connections_deleted on entra_connections`.execute(db);
  await sql`drop function hook_connections_deleted()`.execute(db);
  for (const table of CHECKED) {
    await sql`drop trigger ${sql.ref(`${table}_connection_fixed`)} on ${sql.table(table)}`.execute(db);
    await sql`drop trigger ${sql.ref(`${table}_connection_exists`)} on ${sql.table(table)}`.execute(db);
    await sql`alter table ${sql.table(table)} add constraint ${sql.ref(`${table}_connection_id_fkey`)} foreign key (connection_id) references entra_connections (id) on delete cascade`.execute(db);
  }
  await sql`drop function hook_connection_fixed()`.execute(db);
  await sql`drop function hook_connections_exist()`.execute(db);
}

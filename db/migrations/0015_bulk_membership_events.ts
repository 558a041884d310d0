import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

/**
 * Membership events of a large statement (a first sync inserts some 300,000 memberships at once)
 * join their groups and users by hash, not by one index look-up per row: the planner cannot tell
 * a trigger's transition table is large, and chose 300,000 look-ups (3 of the first sync's 36
 * seconds). A small change (a delta's few memberships) keeps the look-ups, planned as before.
 */
const EVENTS = (op: string) => `
      insert into directory_events (org_id, connection_id, type, run_id, user_ref, group_ref, data)
      select c.org_id, m.connection_id, case when ${op} = 'INSERT' then 'membership.added' else 'membership.removed' end, hook_run_id(), u.id, g.id,
             jsonb_build_object('group', hook_group_state(g), 'user', jsonb_build_object('id', u.id, 'entraId', u.user_id))
      from changed_rows m
      join synced_groups g on g.connection_id = m.connection_id and g.group_id = m.group_id
      join directory_users u on u.connection_id = m.connection_id and u.user_id = m.user_id
      join entra_connections c on c.id = m.connection_id
      order by m.connection_id, m.group_id, m.user_id`;

/** Rows from which a statement's events are joined by hash. */
const LARGE = 10_000;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function hook_memberships_changed() returns trigger language plpgsql as $$
    declare
      nestloop text := current_setting('enable_nestloop');
    begin
      if (select count(*) from changed_rows) < ${sql.lit(LARGE)} then
        ${sql.raw(EVENTS('tg_op'))};
      else
        -- Planned now (a static statement's plan is cached for the session), with hash joins.
        perform set_config('enable_nestloop', 'off', true);
        execute ${sql.lit(EVENTS('$1'))} using tg_op;
        perform set_config('enable_nestloop', nestloop, true);
      end if;
      return null;
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function hook_memberships_changed() returns trigger language plpgsql as $$
    begin
      ${sql.raw(EVENTS('tg_op'))};
      return null;
    end $$`.execute(db);
}

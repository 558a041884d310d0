import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

/**
 * The outbox: every change to an org's synced directory, written by PostgreSQL itself in the
 * transaction that made it. Statement-level triggers over the changed rows (transition tables)
 * turn each write of users, memberships, synced groups and a connection's sync status into
 * events, one INSERT … SELECT per statement: whichever code path writes (a sync commit, a save,
 * a disconnect), its events commit or roll back with it, and no write goes unannounced.
 *
 * The feed orders events by (tx, id): `tx` is the writing transaction's id, and a reader only
 * sees transactions below the oldest one still running, so an event can never appear behind a
 * cursor that has already passed it (ids alone are handed out before commit, out of order).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('directory_events')
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('tx', sql`xid8`, (col) => col.notNull().defaultTo(sql`pg_current_xact_id()`))
    .addColumn('org_id', 'uuid', (col) => col.notNull())
    .addColumn('connection_id', 'uuid', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('occurred_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // The sync cycle that wrote it, when a cycle did (set per transaction: hook.run_id).
    .addColumn('run_id', 'uuid')
    // Hook's ids of the user and the synced group the event is about, for their history.
    .addColumn('user_ref', 'uuid')
    .addColumn('group_ref', 'uuid')
    .addColumn('data', 'jsonb', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('directory_events_feed').on('directory_events').columns(['org_id', 'tx', 'id']).execute();
  await db.schema.createIndex('directory_events_user').on('directory_events').columns(['user_ref', 'id']).where(sql.ref('user_ref'), 'is not', null).execute();
  await db.schema.createIndex('directory_events_group').on('directory_events').columns(['group_ref', 'id']).where(sql.ref('group_ref'), 'is not', null).execute();
  await db.schema.createIndex('directory_events_age').on('directory_events').column('occurred_at').execute();
  // The newest position the retention sweep has deleted: a cursor before it has lost events.
  await db.schema
    .createTable('directory_events_horizon')
    .addColumn('one_row', 'boolean', (col) => col.primaryKey().defaultTo(true).check(sql`one_row`))
    .addColumn('tx', sql`xid8`, (col) => col.notNull())
    .addColumn('id', 'bigint', (col) => col.notNull())
    .execute();

  // A connection remembers the last settled sync status it announced (running is not settled).
  await db.schema.alterTable('entra_connections').addColumn('announced_status', 'text', (col) => col.notNull().defaultTo('idle')).execute();
  await sql`update entra_connections set announced_status = case when sync_status = 'running' then 'idle' else sync_status end`.execute(db);

  await sql`
    create function hook_user_state(u directory_users) returns jsonb language sql stable as $$
      select jsonb_build_object(
        'id', u.id, 'entraId', u.user_id, 'connectionId', u.connection_id,
        'displayName', u.display_name, 'email', u.mail, 'userPrincipalName', u.user_principal_name,
        'isGuest', u.is_guest, 'isDisabled', u.account_enabled is false, 'isSharedMailbox', u.is_shared_mailbox,
        'status', case when u.removed_at is null then 'active' else 'removed' end,
        'removedReason', u.removed_reason)
    $$`.execute(db);
  await sql`
    create function hook_group_state(g synced_groups) returns jsonb language sql stable as $$
      select jsonb_build_object('id', g.id, 'entraId', g.group_id, 'connectionId', g.connection_id, 'name', g.display_name)
    $$`.execute(db);
  await sql`
    create function hook_run_id() returns uuid language sql stable as $$
      select nullif(current_setting('hook.run_id', true), '')::uuid
    $$`.execute(db);

  // Users: added (new, or back after removal), updated (with what changed), deactivated and
  // reactivated (the account disabled or enabled in Entra), removed.
  await sql`
    create function hook_users_inserted() returns trigger language plpgsql as $$
    begin
      insert into directory_events (org_id, connection_id, type, run_id, user_ref, data)
      select c.org_id, n.connection_id, 'user.added', hook_run_id(), n.id, jsonb_build_object('user', hook_user_state(n), 'returning', false)
      from new_rows n join entra_connections c on c.id = n.connection_id
      order by n.connection_id, n.user_id;
      return null;
    end $$`.execute(db);
  await sql`
    create function hook_users_updated() returns trigger language plpgsql as $$
    begin
      insert into directory_events (org_id, connection_id, type, run_id, user_ref, data)
      select c.org_id, n.connection_id, e.type, hook_run_id(), n.id, jsonb_build_object('user', hook_user_state(n)) || case when e.type = 'user.added' then jsonb_build_object('returning', true) else '{}' end
             || case when e.changes is null then '{}' else jsonb_build_object('changes', e.changes) end
      from old_rows o join new_rows n on n.id = o.id join entra_connections c on c.id = n.connection_id
      cross join lateral (
        select 'user.added' as type, null::jsonb as changes where o.removed_at is not null and n.removed_at is null
        union all
        select 'user.updated', jsonb_object_agg(f.field, jsonb_build_object('from', f.before, 'to', f.after))
        from (values
          ('displayName', to_jsonb(o.display_name), to_jsonb(n.display_name)),
          ('email', to_jsonb(o.mail), to_jsonb(n.mail)),
          ('userPrincipalName', to_jsonb(o.user_principal_name), to_jsonb(n.user_principal_name)),
          ('isGuest', to_jsonb(o.is_guest), to_jsonb(n.is_guest)),
          ('isSharedMailbox', to_jsonb(o.is_shared_mailbox), to_jsonb(n.is_shared_mailbox))
        ) as f(field, before, after)
        where f.before is distinct from f.after
        having count(*) > 0
        union all
        select 'user.deactivated', null where o.account_enabled is not false and n.account_enabled is false
        union all
        select 'user.reactivated', null where o.account_enabled is false and n.account_enabled is not false
        union all
        select 'user.removed', null where o.removed_at is null and n.removed_at is not null
      ) e
      order by n.connection_id, n.user_id;
      return null;
    end $$`.execute(db);

  // Memberships (a synced group's users, nested groups included): added and removed, while the
  // group is synced. A group taken out of the sync announces its members' removal itself.
  await sql`
    create function hook_memberships_changed() returns trigger language plpgsql as $$
    begin
      insert into directory_events (org_id, connection_id, type, run_id, user_ref, group_ref, data)
      select c.org_id, m.connection_id, case when tg_op = 'INSERT' then 'membership.added' else 'membership.removed' end, hook_run_id(), u.id, g.id,
             jsonb_build_object('group', hook_group_state(g), 'user', jsonb_build_object('id', u.id, 'entraId', u.user_id))
      from changed_rows m
      join synced_groups g on g.connection_id = m.connection_id and g.group_id = m.group_id
      join directory_users u on u.connection_id = m.connection_id and u.user_id = m.user_id
      join entra_connections c on c.id = m.connection_id
      order by m.connection_id, m.group_id, m.user_id;
      return null;
    end $$`.execute(db);

  // Synced groups: added (with the members Hook already knows for it), renamed, removed from
  // the sync (with its members' removal first).
  const groupMemberships = (type: string, rows: string) => sql.raw(`
      insert into directory_events (org_id, connection_id, type, run_id, user_ref, group_ref, data)
      select c.org_id, g.connection_id, '${type}', hook_run_id(), u.id, g.id,
             jsonb_build_object('group', hook_group_state(g), 'user', jsonb_build_object('id', u.id, 'entraId', u.user_id))
      from ${rows} g
      join group_memberships m on m.connection_id = g.connection_id and m.group_id = g.group_id
      join directory_users u on u.connection_id = m.connection_id and u.user_id = m.user_id
      join entra_connections c on c.id = g.connection_id
      order by g.connection_id, g.group_id, m.user_id;`);
  const groupEvent = (type: string, rows: string) => sql.raw(`
      insert into directory_events (org_id, connection_id, type, run_id, group_ref, data)
      select c.org_id, g.connection_id, '${type}', hook_run_id(), g.id, jsonb_build_object('group', hook_group_state(g))
      from ${rows} g join entra_connections c on c.id = g.connection_id
      order by g.connection_id, g.group_id;`);
  await sql`
    create function hook_groups_inserted() returns trigger language plpgsql as $$
    begin
      ${groupEvent('group.added', 'new_rows')}
      ${groupMemberships('membership.added', 'new_rows')}
      return null;
    end $$`.execute(db);
  await sql`
    create function hook_groups_deleted() returns trigger language plpgsql as $$
    begin
      ${groupMemberships('membership.removed', 'old_rows')}
      ${groupEvent('group.removed', 'old_rows')}
      return null;
    end $$`.execute(db);
  await sql`
    create function hook_groups_updated() returns trigger language plpgsql as $$
    begin
      insert into directory_events (org_id, connection_id, type, run_id, group_ref, data)
      select c.org_id, n.connection_id, 'group.renamed', hook_run_id(), n.id,
             jsonb_build_object('group', hook_group_state(n), 'changes', jsonb_build_object('name', jsonb_build_object('from', o.display_name, 'to', n.display_name)))
      from old_rows o join new_rows n on n.id = o.id join entra_connections c on c.id = n.connection_id
      where o.display_name is distinct from n.display_name
      order by n.connection_id, n.group_id;
      return null;
    end $$`.execute(db);

  // The sync's state, as an admin must hear of it: failed (a group could not be read), consent
  // revoked, removals awaiting confirmation, and recovered. Only settled statuses count.
  await sql`
    create function hook_sync_status_changed() returns trigger language plpgsql as $$
    declare
      event_type text;
    begin
      if new.status = 'disconnected' then
        new.announced_status := 'idle'; -- a directory connected again starts afresh
        return new;
      end if;
      if new.sync_status = 'running' or new.sync_status = old.announced_status then
        return new;
      end if;
      event_type := case new.sync_status
        when 'failing' then 'sync.failed'
        when 'needs_reconnect' then 'sync.consent_revoked'
        when 'awaiting_confirmation' then 'sync.awaiting_confirmation'
        else 'sync.recovered' end;
      insert into directory_events (org_id, connection_id, type, run_id, data)
      values (new.org_id, new.id, event_type, hook_run_id(), jsonb_build_object('connection', jsonb_build_object(
        'id', new.id, 'tenantId', new.tenant_id, 'tenantName', new.tenant_name, 'status', new.status,
        'syncStatus', new.sync_status, 'pendingRemovals', new.pending_removals), 'previousSyncStatus', old.announced_status));
      new.announced_status := new.sync_status;
      return new;
    end $$`.execute(db);

  await sql`create trigger users_inserted after insert on directory_users referencing new table as new_rows for each statement execute function hook_users_inserted()`.execute(db);
  await sql`create trigger users_updated after update on directory_users referencing old table as old_rows new table as new_rows for each statement execute function hook_users_updated()`.execute(db);
  await sql`create trigger memberships_inserted after insert on group_memberships referencing new table as changed_rows for each statement execute function hook_memberships_changed()`.execute(db);
  await sql`create trigger memberships_deleted after delete on group_memberships referencing old table as changed_rows for each statement execute function hook_memberships_changed()`.execute(db);
  await sql`create trigger groups_inserted after insert on synced_groups referencing new table as new_rows for each statement execute function hook_groups_inserted()`.execute(db);
  await sql`create trigger groups_updated after update on synced_groups referencing old table as old_rows new table as new_rows for each statement execute function hook_groups_updated()`.execute(db);
  await sql`create trigger groups_deleted after delete on synced_groups referencing old table as old_rows for each statement execute function hook_groups_deleted()`.execute(db);
  await sql`create trigger sync_status_changed before update of sync_status on entra_connections for each row execute function hook_sync_status_changed()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [trigger, table] of [
    ['users_inserted', 'directory_users'],
    ['users_updated', 'directory_users'],
    ['memberships_inserted', 'group_memberships'],
    ['memberships_deleted', 'group_memberships'],
    ['groups_inserted', 'synced_groups'],
    ['groups_updated', 'synced_groups'],
    ['groups_deleted', 'synced_groups'],
    ['sync_status_changed', 'entra_connections'],
  ]) {
    await sql`drop trigger ${sql.id(trigger!)} on ${sql.id(table!)}`.execute(db);
  }
  for (const fn of ['hook_users_inserted', 'hook_users_updated', 'hook_memberships_changed', 'hook_groups_inserted', 'hook_groups_updated', 'hook_groups_deleted', 'hook_sync_status_changed', 'hook_run_id']) {
    await sql`drop function ${sql.id(fn)}()`.execute(db);
  }
  await sql`drop function hook_user_state(directory_users)`.execute(db);
  await sql`drop function hook_group_state(synced_groups)`.execute(db);
  await db.schema.alterTable('entra_connections').dropColumn('announced_status').execute();
  await db.schema.dropTable('directory_events_horizon').execute();
  await db.schema.dropTable('directory_events').execute();
}

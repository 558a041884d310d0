import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

/**
 * Webhook endpoints: where an org's change events are delivered, each by a Temporal workflow of
 * its own (workflows/webhooks). An endpoint's position in the events feed moves only after its
 * receiver acknowledged the events up to it, so a crash anywhere repeats a delivery (with the
 * same event ids) and never skips one.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('org_id', 'uuid', (col) => col.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('url', 'text', (col) => col.notNull())
    // Empty: every type.
    .addColumn('event_types', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'`))
    // The signing secret: the worker signs with it, so it is kept (shown to the admin once).
    .addColumn('secret', 'text', (col) => col.notNull())
    .addColumn('paused', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('created_by', 'uuid', (col) => col.references('accounts.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('deleted_at', 'timestamptz')
    // Delivered up to here (the feed's position); starts at the feed's end when created.
    .addColumn('position_tx', sql`xid8`, (col) => col.notNull())
    .addColumn('position_id', 'bigint', (col) => col.notNull())
    .addColumn('delivered_count', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('last_attempt_at', 'timestamptz')
    .addColumn('last_success_at', 'timestamptz')
    // The receiver's answer ("200", "500", "timeout", "refused: …") of the last attempt.
    .addColumn('last_status', 'text')
    .addColumn('failing_since', 'timestamptz')
    .execute();
  await db.schema.createIndex('webhook_endpoints_org').on('webhook_endpoints').columns(['org_id', 'created_at']).execute();

  // New events wake the delivery workflows at once (delivered on commit, never for a rollback).
  await sql`
    create function hook_events_notify() returns trigger language plpgsql as $$
    declare
      org uuid;
    begin
      for org in select distinct org_id from new_rows loop
        perform pg_notify('hook_directory_events', org::text);
      end loop;
      return null;
    end $$`.execute(db);
  await sql`create trigger events_notify after insert on directory_events referencing new table as new_rows for each statement execute function hook_events_notify()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger events_notify on directory_events`.execute(db);
  await sql`drop function hook_events_notify()`.execute(db);
  await db.schema.dropTable('webhook_endpoints').execute();
}

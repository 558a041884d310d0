import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('entra_connections')
    .addColumn('sync_status', 'text', (col) => col.notNull().defaultTo('idle'))
    .addColumn('last_sync_at', 'timestamptz')
    .addColumn('pending_removals', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();

  await db.schema
    .alterTable('synced_groups')
    .addColumn('member_count', 'integer')
    .addColumn('group_type', 'text')
    .addColumn('last_synced_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('missing_since', 'timestamptz')
    .execute();

  await db.schema
    .alterTable('directory_users')
    .addColumn('email_domain', 'text')
    .addColumn('is_guest', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('is_shared_mailbox', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('first_seen_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('directory_users_name').on('directory_users').columns(['connection_id', 'display_name', 'user_id']).execute();
  await db.schema.createIndex('directory_users_domain').on('directory_users').columns(['connection_id', 'email_domain']).execute();

  // What one run read, group by group, before it is committed: a crashed or failed run leaves
  // the stored memberships untouched, and a retried page writes the same rows again.
  await db.schema
    .createTable('sync_staged_members')
    .addColumn('run_id', 'uuid', (col) => col.notNull())
    .addColumn('group_id', 'uuid', (col) => col.notNull())
    .addColumn('user_id', 'uuid', (col) => col.notNull())
    .addPrimaryKeyConstraint('sync_staged_members_pkey', ['run_id', 'group_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('sync_staged_users')
    .addColumn('run_id', 'uuid', (col) => col.notNull())
    .addColumn('user_id', 'uuid', (col) => col.notNull())
    .addColumn('display_name', 'text')
    .addColumn('mail', 'text')
    .addColumn('user_principal_name', 'text')
    .addColumn('user_type', 'text')
    .addColumn('account_enabled', 'boolean')
    .addColumn('is_guest', 'boolean', (col) => col.notNull())
    .addPrimaryKeyConstraint('sync_staged_users_pkey', ['run_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('sync_runs')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('connection_id', 'uuid', (col) => col.notNull().references('entra_connections.id').onDelete('cascade'))
    .addColumn('trigger', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().defaultTo('running'))
    .addColumn('started_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('users_added', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('users_updated', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('users_removed', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('groups_ok', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('groups_failed', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('graph_requests', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('sync_runs_connection').on('sync_runs').columns(['connection_id', 'started_at']).execute();

  await db.schema
    .createTable('sync_run_groups')
    .addColumn('run_id', 'uuid', (col) => col.notNull().references('sync_runs.id').onDelete('cascade'))
    .addColumn('group_id', 'uuid', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('display_name', 'text')
    .addColumn('group_type', 'text')
    .addColumn('member_count', 'integer')
    .addColumn('error', 'text')
    .addColumn('graph_requests', 'integer', (col) => col.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('sync_run_groups_pkey', ['run_id', 'group_id'])
    .addCheckConstraint('sync_run_groups_status', sql`status in ('ok', 'failed', 'missing')`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sync_run_groups').execute();
  await db.schema.dropTable('sync_runs').execute();
  await db.schema.dropTable('sync_staged_users').execute();
  await db.schema.dropTable('sync_staged_members').execute();
  await db.schema.dropIndex('directory_users_domain').execute();
  await db.schema.dropIndex('directory_users_name').execute();
  for (const column of ['email_domain', 'is_guest', 'is_shared_mailbox', 'first_seen_at', 'updated_at']) {
    await db.schema.alterTable('directory_users').dropColumn(column).execute();
  }
  for (const column of ['member_count', 'group_type', 'last_synced_at', 'last_error', 'missing_since']) {
    await db.schema.alterTable('synced_groups').dropColumn(column).execute();
  }
  for (const column of ['sync_status', 'last_sync_at', 'pending_removals']) {
    await db.schema.alterTable('entra_connections').dropColumn(column).execute();
  }
}

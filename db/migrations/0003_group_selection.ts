import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('entra_connections')
    .addColumn('selection_version', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_save_id', 'text')
    .addColumn('groups_truncated', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('groups_loaded_at', 'timestamptz')
    .execute();

  // The picker's list: what the last load (and searches) found in the tenant, with member counts.
  await db.schema
    .createTable('entra_groups')
    .addColumn('connection_id', 'uuid', (col) => col.notNull().references('entra_connections.id').onDelete('cascade'))
    .addColumn('group_id', 'uuid', (col) => col.notNull())
    .addColumn('display_name', 'text', (col) => col.notNull())
    .addColumn('group_type', 'text', (col) => col.notNull())
    .addColumn('visibility', 'text')
    .addColumn('member_count', 'integer')
    .addColumn('in_first_page', 'boolean', (col) => col.notNull().defaultTo(true))
    .addColumn('loaded_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('entra_groups_pkey', ['connection_id', 'group_id'])
    .addCheckConstraint('entra_groups_type', sql`group_type in ('microsoft365', 'security', 'distribution')`)
    .execute();
  await db.schema.createIndex('entra_groups_name').on('entra_groups').columns(['connection_id', 'display_name']).execute();

  // The saved selection: the groups this connection syncs.
  await db.schema
    .createTable('synced_groups')
    .addColumn('connection_id', 'uuid', (col) => col.notNull().references('entra_connections.id').onDelete('cascade'))
    .addColumn('group_id', 'uuid', (col) => col.notNull())
    .addColumn('display_name', 'text', (col) => col.notNull())
    .addColumn('added_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('synced_groups_pkey', ['connection_id', 'group_id'])
    .execute();

  // Preview samples: up to 10 members and the total of each selected group, per preview run.
  await db.schema
    .createTable('preview_samples')
    .addColumn('connection_id', 'uuid', (col) => col.notNull().references('entra_connections.id').onDelete('cascade'))
    .addColumn('preview_id', 'text', (col) => col.notNull())
    .addColumn('group_id', 'uuid', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('total', 'integer')
    .addColumn('members', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('preview_samples_pkey', ['connection_id', 'preview_id', 'group_id'])
    .addCheckConstraint('preview_samples_status', sql`status in ('ok', 'failed')`)
    .execute();

  // Directory users and their group memberships, written by the sync (users keyed by Entra object id).
  await db.schema
    .createTable('directory_users')
    .addColumn('connection_id', 'uuid', (col) => col.notNull().references('entra_connections.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (col) => col.notNull())
    .addColumn('display_name', 'text')
    .addColumn('mail', 'text')
    .addColumn('user_principal_name', 'text')
    .addColumn('user_type', 'text')
    .addColumn('account_enabled', 'boolean')
    .addColumn('removed_at', 'timestamptz')
    .addColumn('removed_reason', 'text')
    .addPrimaryKeyConstraint('directory_users_pkey', ['connection_id', 'user_id'])
    .execute();
  await db.schema
    .createTable('group_memberships')
    .addColumn('connection_id', 'uuid', (col) => col.notNull().references('entra_connections.id').onDelete('cascade'))
    .addColumn('group_id', 'uuid', (col) => col.notNull())
    .addColumn('user_id', 'uuid', (col) => col.notNull())
    .addPrimaryKeyConstraint('group_memberships_pkey', ['connection_id', 'group_id', 'user_id'])
    .execute();
  await db.schema.createIndex('group_memberships_user').on('group_memberships').columns(['connection_id', 'user_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['group_memberships', 'directory_users', 'preview_samples', 'synced_groups', 'entra_groups']) {
    await db.schema.dropTable(table).execute();
  }
  await db.schema
    .alterTable('entra_connections')
    .dropColumn('selection_version')
    .dropColumn('last_save_id')
    .dropColumn('groups_truncated')
    .dropColumn('groups_loaded_at')
    .execute();
}

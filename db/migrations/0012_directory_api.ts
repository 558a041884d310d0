import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

export async function up(db: Kysely<any>): Promise<void> {
  // Org-scoped API keys for the directory API: only a SHA-256 of the key is kept (the key is
  // 256 random bits, shown once); the prefix is what Settings shows to tell keys apart.
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('org_id', 'uuid', (col) => col.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('prefix', 'text', (col) => col.notNull())
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('created_by', 'uuid', (col) => col.references('accounts.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('api_keys_org').on('api_keys').columns(['org_id', 'created_at']).execute();

  // Hook's own ids for synced users and groups, stable for as long as the row lives (a user
  // removed and restored keeps theirs; a group taken out of the sync and chosen again is new).
  await db.schema.alterTable('directory_users').addColumn('id', 'uuid', (col) => col.notNull().defaultTo(sql`gen_random_uuid()`)).execute();
  await db.schema.createIndex('directory_users_id').on('directory_users').unique().column('id').execute();
  await db.schema.alterTable('synced_groups').addColumn('id', 'uuid', (col) => col.notNull().defaultTo(sql`gen_random_uuid()`)).execute();
  await db.schema.createIndex('synced_groups_id').on('synced_groups').unique().column('id').execute();
  // "Updated since" for API clients that poll.
  await db.schema.createIndex('directory_users_updated').on('directory_users').columns(['connection_id', 'updated_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('directory_users_updated').execute();
  await db.schema.alterTable('synced_groups').dropColumn('id').execute();
  await db.schema.alterTable('directory_users').dropColumn('id').execute();
  await db.schema.dropTable('api_keys').execute();
}

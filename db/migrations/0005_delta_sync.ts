import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

export async function up(db: Kysely<any>): Promise<void> {
  // Where the next delta round starts, per connection; null until a full read has set them.
  await db.schema
    .alterTable('entra_connections')
    .addColumn('groups_delta_link', 'text')
    .addColumn('users_delta_link', 'text')
    .addColumn('last_full_sync_at', 'timestamptz')
    .execute();

  // Direct memberships of every group the synced groups contain, nested ones included: what a
  // membership delta applies to. Effective memberships (group_memberships) are derived from it.
  await db.schema
    .createTable('group_edges')
    .addColumn('connection_id', 'uuid', (col) => col.notNull().references('entra_connections.id').onDelete('cascade'))
    .addColumn('group_id', 'uuid', (col) => col.notNull())
    .addColumn('member_id', 'uuid', (col) => col.notNull())
    .addColumn('member_type', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('group_edges_pkey', ['connection_id', 'group_id', 'member_id'])
    .addCheckConstraint('group_edges_member_type', sql`member_type in ('user', 'group')`)
    .execute();
  await db.schema.createIndex('group_edges_member').on('group_edges').columns(['connection_id', 'member_id']).execute();

  // Groups read in full at least once (synced or nested): names and hidden membership.
  await db.schema
    .createTable('directory_groups')
    .addColumn('connection_id', 'uuid', (col) => col.notNull().references('entra_connections.id').onDelete('cascade'))
    .addColumn('group_id', 'uuid', (col) => col.notNull())
    .addColumn('display_name', 'text')
    .addColumn('hidden_membership', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('read_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('directory_groups_pkey', ['connection_id', 'group_id'])
    .execute();

  // Staged members become staged edges: a member may be a user or a group, added or removed.
  await db.schema.alterTable('sync_staged_members').renameColumn('user_id', 'member_id').execute();
  await db.schema
    .alterTable('sync_staged_members')
    .addColumn('member_type', 'text', (col) => col.notNull().defaultTo('user'))
    .addColumn('removed', 'boolean', (col) => col.notNull().defaultTo(false))
    .execute();
  await db.schema.alterTable('sync_staged_users').addColumn('deleted', 'boolean', (col) => col.notNull().defaultTo(false)).execute();

  await db.schema
    .alterTable('sync_runs')
    .addColumn('kind', 'text', (col) => col.notNull().defaultTo('full'))
    .addColumn('groups_delta_link', 'text')
    .addColumn('users_delta_link', 'text')
    .execute();
  // `replaced`: the group was read in full this run (its edges are replaced, not patched).
  await db.schema
    .alterTable('sync_run_groups')
    .addColumn('replaced', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('hidden_membership', 'boolean', (col) => col.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['replaced', 'hidden_membership']) await db.schema.alterTable('sync_run_groups').dropColumn(column).execute();
  for (const column of ['kind', 'groups_delta_link', 'users_delta_link']) await db.schema.alterTable('sync_runs').dropColumn(column).execute();
  await db.schema.alterTable('sync_staged_users').dropColumn('deleted').execute();
  for (const column of ['member_type', 'removed']) await db.schema.alterTable('sync_staged_members').dropColumn(column).execute();
  await db.schema.alterTable('sync_staged_members').renameColumn('member_id', 'user_id').execute();
  await db.schema.dropTable('directory_groups').execute();
  await db.schema.dropTable('group_edges').execute();
  for (const column of ['groups_delta_link', 'users_delta_link', 'last_full_sync_at']) await db.schema.alterTable('entra_connections').dropColumn(column).execute();
}

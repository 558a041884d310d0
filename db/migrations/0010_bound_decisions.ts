import type { Kysely } from 'kysely';

// Frozen: see 0001.

export async function up(db: Kysely<any>): Promise<void> {
  // The removals a cycle held back for confirmation, user by user: a confirmation names the run
  // and a digest of this set, and the commit removes only these (anything new waits its turn).
  await db.schema
    .createTable('pending_removals')
    .addColumn('connection_id', 'uuid', (col) => col.notNull().references('entra_connections.id').onDelete('cascade'))
    .addColumn('run_id', 'uuid', (col) => col.notNull())
    .addColumn('user_id', 'uuid', (col) => col.notNull())
    .addPrimaryKeyConstraint('pending_removals_pkey', ['connection_id', 'user_id'])
    .execute();
  await db.schema
    .alterTable('entra_connections')
    .addColumn('pending_run_id', 'uuid')
    .addColumn('pending_digest', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('entra_connections').dropColumn('pending_run_id').dropColumn('pending_digest').execute();
  await db.schema.dropTable('pending_removals').execute();
}

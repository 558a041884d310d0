import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

export async function up(db: Kysely<any>): Promise<void> {
  // The groups inside groups, a few dozen among a tenant's 300,000 direct memberships: every
  // commit walks them (the tree of each synced group) and every delta cycle lists them. Without
  // this index both read every membership of every group, each cycle.
  await sql`create index group_edges_nested on group_edges (connection_id, group_id, member_id) where member_type = 'group'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('group_edges_nested').execute();
}

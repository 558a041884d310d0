import { sql, type Kysely } from 'kysely';

// Frozen: a migration describes the schema as it was on the day it shipped. Never edit it
// after it has run anywhere; add a new one instead.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('orgs')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('slug', 'text', (col) => col.notNull().unique())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('orgs_slug_format', sql`slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'`)
    .execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('email', 'text', (col) => col.notNull())
    .addColumn('display_name', 'text', (col) => col.notNull())
    .addColumn('password_hash', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  // Emails are compared case-insensitively: Ada@Example.com and ada@example.com are one account.
  await db.schema
    .createIndex('accounts_email_unique')
    .on('accounts')
    .unique()
    .expression(sql`lower(email)`)
    .execute();

  await db.schema
    .createTable('org_memberships')
    .addColumn('org_id', 'uuid', (col) => col.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('role', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('org_memberships_pkey', ['org_id', 'account_id'])
    .addCheckConstraint('org_memberships_role', sql`role in ('admin', 'member')`)
    .execute();
  await db.schema.createIndex('org_memberships_account').on('org_memberships').column('account_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('org_memberships').execute();
  await db.schema.dropTable('accounts').execute();
  await db.schema.dropTable('orgs').execute();
}

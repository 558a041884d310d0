import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

export async function up(db: Kysely<any>): Promise<void> {
  // Session ids are stored hashed: a leaked table does not let anyone sign in.
  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'text', (col) => col.primaryKey())
    .addColumn('account_id', 'uuid', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('current_org_id', 'uuid', (col) => col.references('orgs.id').onDelete('set null'))
    .addColumn('flash', 'jsonb')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('sessions_account').on('sessions').column('account_id').execute();

  // Failed sign-ins, counted per account and per address over a sliding window.
  await db.schema
    .createTable('sign_in_failures')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('email', 'text', (col) => col.notNull())
    .addColumn('address', 'text', (col) => col.notNull())
    .addColumn('at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('sign_in_failures_email').on('sign_in_failures').columns(['email', 'at']).execute();
  await db.schema.createIndex('sign_in_failures_address').on('sign_in_failures').columns(['address', 'at']).execute();

  // One row per Entra tenant connected to an org; reconnecting updates it.
  await db.schema
    .createTable('entra_connections')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('org_id', 'uuid', (col) => col.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('tenant_id', 'uuid', (col) => col.notNull())
    .addColumn('tenant_name', 'text', (col) => col.notNull())
    .addColumn('verified_domains', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('status', 'text', (col) => col.notNull().defaultTo('connected'))
    .addColumn('connected_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('entra_connections_org_tenant', ['org_id', 'tenant_id'])
    .addCheckConstraint('entra_connections_status', sql`status in ('connected', 'needs_reconnect', 'disconnected')`)
    .execute();

  // The admin-consent `state`: random, single use, expiring, bound to session, org and workflow.
  await db.schema
    .createTable('consent_requests')
    .addColumn('state_hash', 'text', (col) => col.primaryKey())
    .addColumn('session_hash', 'text', (col) => col.notNull())
    .addColumn('org_id', 'uuid', (col) => col.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('workflow_id', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('consent_requests').execute();
  await db.schema.dropTable('entra_connections').execute();
  await db.schema.dropTable('sign_in_failures').execute();
  await db.schema.dropTable('sessions').execute();
}

import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

export async function up(db: Kysely<any>): Promise<void> {
  // Connect is two trips to Microsoft, each with its own single-use state: first the admin's
  // sign-in (OpenID Connect, PKCE and a nonce), whose id_token proves the tenant and the role;
  // then the admin consent, sent to that tenant only. Rows from before have no phase: 'legacy',
  // which the callback no longer accepts.
  await db.schema
    .alterTable('consent_requests')
    .addColumn('phase', 'text', (col) => col.notNull().defaultTo('legacy'))
    .addColumn('redirect_uri', 'text')
    .addColumn('nonce', 'text')
    .addColumn('code_verifier', 'text')
    // The authorization code, held between the callback and the worker's redemption (minutes), then cleared.
    .addColumn('code', 'text')
    .addColumn('proven_tenant_id', 'uuid')
    .addColumn('proven_user', 'text')
    .addColumn('proven_at', 'timestamptz')
    .execute();
  await sql`alter table consent_requests add constraint consent_requests_phase check (phase in ('legacy', 'sign_in', 'consent'))`.execute(db);
  await db.schema.createIndex('consent_requests_expires').on('consent_requests').column('expires_at').execute();
  await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();
  await db.schema.createIndex('sign_in_failures_at').on('sign_in_failures').column('at').execute();
  // Throttling counts per account and address pair too (see web/routes/auth.ts).
  await db.schema.createIndex('sign_in_failures_pair').on('sign_in_failures').columns(['email', 'address', 'at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sign_in_failures_pair').execute();
  await db.schema.dropIndex('sign_in_failures_at').execute();
  await db.schema.dropIndex('sessions_expires').execute();
  await db.schema.dropIndex('consent_requests_expires').execute();
  await db.schema.alterTable('consent_requests').dropConstraint('consent_requests_phase').execute();
  await db.schema
    .alterTable('consent_requests')
    .dropColumn('phase')
    .dropColumn('redirect_uri')
    .dropColumn('nonce')
    .dropColumn('code_verifier')
    .dropColumn('code')
    .dropColumn('proven_tenant_id')
    .dropColumn('proven_user')
    .dropColumn('proven_at')
    .execute();
}

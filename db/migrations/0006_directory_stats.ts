import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

export async function up(db: Kysely<any>): Promise<void> {
  // What the pane and the Integrations table show, kept by the sync's commit instead of being
  // counted over every user on every page view.
  await db.schema
    .alterTable('entra_connections')
    .addColumn('user_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('guest_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('disabled_count', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('directory_domains')
    .addColumn('connection_id', 'uuid', (col) => col.notNull().references('entra_connections.id').onDelete('cascade'))
    .addColumn('email_domain', 'text', (col) => col.notNull())
    .addColumn('users', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('directory_domains_pkey', ['connection_id', 'email_domain'])
    .execute();
  await sql`update entra_connections c set user_count = s.total, guest_count = s.guests, disabled_count = s.disabled
            from (select connection_id, count(*) as total, count(*) filter (where is_guest) as guests, count(*) filter (where account_enabled = false) as disabled
                  from directory_users where removed_at is null group by connection_id) s
            where s.connection_id = c.id`.execute(db);
  await sql`insert into directory_domains (connection_id, email_domain, users)
            select connection_id, email_domain, count(*) from directory_users
            where removed_at is null and email_domain is not null and email_domain <> ''
            group by connection_id, email_domain`.execute(db);

  // The All users list, by name then id, of active users: a page is an index range, not a sort
  // of every user (the list orders by coalesce(display_name, '')).
  await db.schema.dropIndex('directory_users_name').execute();
  await sql`create index directory_users_list on directory_users (connection_id, coalesce(display_name, ''), user_id) where removed_at is null`.execute(db);

  // Search by any part of a name or address without reading every user: the three, lowercased
  // once when written (a case-insensitive match per row costs three times a plain one), under a
  // trigram index.
  await sql`create extension if not exists pg_trgm`.execute(db);
  await sql`alter table directory_users add column search_text text generated always as
            (lower(coalesce(display_name, '') || ' ' || coalesce(mail, '') || ' ' || coalesce(user_principal_name, ''))) stored`.execute(db);
  await sql`create index directory_users_search on directory_users using gin (search_text gin_trgm_ops)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('directory_users_search').execute();
  await db.schema.alterTable('directory_users').dropColumn('search_text').execute();
  await db.schema.dropIndex('directory_users_list').execute();
  await db.schema.createIndex('directory_users_name').on('directory_users').columns(['connection_id', 'display_name', 'user_id']).execute();
  await db.schema.dropTable('directory_domains').execute();
  for (const column of ['user_count', 'guest_count', 'disabled_count']) await db.schema.alterTable('entra_connections').dropColumn(column).execute();
}

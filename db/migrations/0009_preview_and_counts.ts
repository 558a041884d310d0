import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

export async function up(db: Kysely<any>): Promise<void> {
  // The preview reads each selected group's user members in full (ids only are kept): what saving
  // changes is then counted with the rules the sync commits with, not guessed from stored rows.
  await db.schema
    .createTable('preview_members')
    // No foreign key: rows of a finished preview are dropped by the next one, and a key check per
    // member would double the cost of the preview's writes (the admin waits for them).
    .addColumn('connection_id', 'uuid', (col) => col.notNull())
    .addColumn('preview_id', 'text', (col) => col.notNull())
    .addColumn('group_id', 'uuid', (col) => col.notNull())
    .addColumn('user_id', 'uuid', (col) => col.notNull())
    .addPrimaryKeyConstraint('preview_members_pkey', ['connection_id', 'preview_id', 'group_id', 'user_id'])
    .execute();
  await sql`create index preview_members_user on preview_members (connection_id, preview_id, user_id)`.execute(db);
  // Flagged members per sampled group (guests, disabled, possible shared mailboxes, no mailbox), and
  // whether every member was read (a group larger than the time budget allows is not).
  await db.schema
    .alterTable('preview_samples')
    .addColumn('flags', 'jsonb')
    .addColumn('complete', 'boolean', (col) => col.notNull().defaultTo(false))
    .execute();

  // Users are the active accounts (enabled); disabled ones, and among them the likely shared
  // mailboxes, are counted apart. Authorized domains count active users only.
  await db.schema.alterTable('entra_connections').addColumn('shared_mailbox_count', 'integer', (col) => col.notNull().defaultTo(0)).execute();
  await sql`update entra_connections c set user_count = coalesce(s.active, 0), guest_count = coalesce(s.guests, 0), disabled_count = coalesce(s.disabled, 0), shared_mailbox_count = coalesce(s.shared, 0)
            from (select connection_id,
                         count(*) filter (where account_enabled) as active,
                         count(*) filter (where account_enabled and is_guest) as guests,
                         count(*) filter (where not account_enabled) as disabled,
                         count(*) filter (where not account_enabled and is_shared_mailbox) as shared
                  from directory_users where removed_at is null group by connection_id) s
            where s.connection_id = c.id`.execute(db);
  await sql`delete from directory_domains`.execute(db);
  await sql`insert into directory_domains (connection_id, email_domain, users)
            select connection_id, email_domain, count(*) from directory_users
            where removed_at is null and account_enabled and email_domain is not null and email_domain <> ''
            group by connection_id, email_domain`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('entra_connections').dropColumn('shared_mailbox_count').execute();
  await db.schema.alterTable('preview_samples').dropColumn('flags').dropColumn('complete').execute();
  await db.schema.dropTable('preview_members').execute();
}

import { sql, type Kysely } from 'kysely';

// Frozen: see 0001.

export async function up(db: Kysely<any>): Promise<void> {
  // The shared-mailbox and email-domain rules move to TypeScript, where staging computes them
  // once (the guest rule already lives there). Rows staged before this migration get the values
  // the commit's SQL used to compute; the columns are then required, so a worker from before it
  // fails its staging write (and Temporal retries it on a current worker) instead of staging
  // rows without them.
  await db.schema.alterTable('sync_staged_users').addColumn('is_shared_mailbox', 'boolean').addColumn('email_domain', 'text').execute();
  await sql`update sync_staged_users set is_shared_mailbox = coalesce(account_enabled = false and mail is not null and mail <> '', false),
            email_domain = coalesce(lower(split_part(coalesce(mail, user_principal_name), '@', 2)), '')`.execute(db);
  await db.schema.alterTable('sync_staged_users').alterColumn('is_shared_mailbox', (col) => col.setNotNull()).alterColumn('email_domain', (col) => col.setNotNull()).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sync_staged_users').dropColumn('is_shared_mailbox').dropColumn('email_domain').execute();
}

import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../schema.js';
import { writeEventsOfOneOrg } from './events.js';

type Db = Kysely<Database>;

export const USERS_PAGE = 50;

/** The connection's latest sync run, finished or not. */
export function latestRun(db: Db, connectionId: string) {
  return db.selectFrom('sync_runs').selectAll().where('connection_id', '=', connectionId).orderBy('started_at', 'desc').limit(1).executeTakeFirst();
}

/** The workspace pane's numbers and lists for one connection. */
export async function paneSummary(db: Db, connectionId: string) {
  const [groups, users, domains, lastRun, samples] = await Promise.all([
    db
      .selectFrom('synced_groups as g')
      .leftJoin('entra_groups as e', (join) => join.onRef('e.connection_id', '=', 'g.connection_id').onRef('e.group_id', '=', 'g.group_id'))
      .select(['g.id', 'g.group_id', 'g.display_name', 'g.member_count', 'g.last_synced_at', 'g.last_error', 'g.missing_since'])
      .select(sql<string | null>`coalesce(g.group_type, e.group_type)`.as('group_type'))
      .where('g.connection_id', '=', connectionId)
      .orderBy(sql`lower(g.display_name)`)
      .execute(),
    db.selectFrom('entra_connections').select(['user_count', 'guest_count', 'disabled_count', 'shared_mailbox_count']).where('id', '=', connectionId).executeTakeFirstOrThrow(),
    db.selectFrom('directory_domains').select(['email_domain', 'users']).where('connection_id', '=', connectionId).orderBy('users', 'desc').orderBy('email_domain').execute(),
    latestRun(db, connectionId),
    // Three members of each group, for the Groups tab: a few index lookups per group.
    sql<{ group_id: string; display_name: string | null }>`
      select g.group_id, s.display_name from synced_groups g
      cross join lateral (
        select u.display_name from group_memberships m
        join directory_users u on u.connection_id = m.connection_id and u.user_id = m.user_id and u.removed_at is null
        where m.connection_id = g.connection_id and m.group_id = g.group_id
        limit 3) s
      where g.connection_id = ${connectionId}`.execute(db),
  ]);
  const sampleOf = new Map<string, string[]>();
  for (const row of samples.rows) sampleOf.set(row.group_id, [...(sampleOf.get(row.group_id) ?? []), row.display_name ?? '—']);
  for (const names of sampleOf.values()) names.sort((a, b) => a.localeCompare(b));
  return {
    groups: groups.map((group) => ({ ...group, sample: sampleOf.get(group.group_id) ?? [] })),
    users: { total: users.user_count, guests: users.guest_count, disabled: users.disabled_count, sharedMailboxes: users.shared_mailbox_count },
    domains,
    lastRun,
  };
}

/** Name, mail or UPN contains `text` (case-insensitive; %, _ and a backslash match themselves), on the trigram index. */
export const searchMatches = (column: RawBuilder<unknown>, text: string) => sql<boolean>`${column} like lower(${`%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`})`;

/**
 * One page of the deduplicated user list, by name then id (keyset: page 2,000 costs what page 1
 * costs), optionally filtered by name or email.
 */
export function usersPage(db: Db, connectionId: string, options: { query?: string; after?: { name: string; id: string } }) {
  let select = db
    .selectFrom('directory_users')
    .select(['id', 'user_id', 'display_name', 'mail', 'user_principal_name', 'is_guest', 'is_shared_mailbox', 'account_enabled'])
    .where('connection_id', '=', connectionId)
    .where('removed_at', 'is', null);
  if (options.query) select = select.where(searchMatches(sql.ref('search_text'), options.query));
  if (options.after) {
    const { name, id } = options.after;
    select = select.where(sql<boolean>`(coalesce(display_name, ''), user_id) > (${name}, ${id}::uuid)`);
  }
  return select.orderBy(sql`coalesce(display_name, '')`).orderBy('user_id').limit(USERS_PAGE + 1).execute();
}

/**
 * Recounts what the pane shows after the users changed, inside the transaction that changed
 * them. Users are the active (enabled) accounts, the help page's "users"; disabled accounts, and
 * among them the likely shared mailboxes, are counted apart; domains count active users only.
 */
export async function refreshDirectoryStats(db: Db, connectionId: string): Promise<void> {
  await sql`update entra_connections c set user_count = s.active, guest_count = s.guests, disabled_count = s.disabled, shared_mailbox_count = s.shared
            from (select count(*) filter (where account_enabled) as active,
                         count(*) filter (where account_enabled and is_guest) as guests,
                         count(*) filter (where not account_enabled) as disabled,
                         count(*) filter (where not account_enabled and is_shared_mailbox) as shared
                  from directory_users where connection_id = ${connectionId} and removed_at is null) s
            where c.id = ${connectionId}`.execute(db);
  await db.deleteFrom('directory_domains').where('connection_id', '=', connectionId).execute();
  await sql`insert into directory_domains (connection_id, email_domain, users)
            select connection_id, email_domain, count(*) from directory_users
            where connection_id = ${connectionId} and removed_at is null and account_enabled and email_domain is not null and email_domain <> ''
            group by connection_id, email_domain`.execute(db);
}

/** Disconnect: the connection's users leave Hook (softly, with the reason), its groups stop syncing. */
export async function disconnectConnection(db: Db, connectionId: string): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await writeEventsOfOneOrg(trx, connectionId); // every user's removal: other orgs' feeds need not wait
    const removed = await trx
      .updateTable('directory_users')
      .set({ removed_at: new Date(), removed_reason: 'Directory disconnected', updated_at: new Date() })
      .where('connection_id', '=', connectionId)
      .where('removed_at', 'is', null)
      .executeTakeFirst();
    await trx.deleteFrom('group_memberships').where('connection_id', '=', connectionId).execute();
    await trx.deleteFrom('synced_groups').where('connection_id', '=', connectionId).execute();
    await refreshDirectoryStats(trx, connectionId);
    await trx.updateTable('entra_connections').set({ status: 'disconnected', sync_status: 'idle', pending_removals: 0, updated_at: new Date() }).where('id', '=', connectionId).execute();
    return Number(removed.numUpdatedRows);
  });
}

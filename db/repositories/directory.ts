import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

type Db = Kysely<Database>;

export const USERS_PAGE = 50;

/** The workspace pane's numbers and lists for one connection. */
export async function paneSummary(db: Db, connectionId: string) {
  const [groups, users, domains, lastRun, samples] = await Promise.all([
    db
      .selectFrom('synced_groups as g')
      .leftJoin('entra_groups as e', (join) => join.onRef('e.connection_id', '=', 'g.connection_id').onRef('e.group_id', '=', 'g.group_id'))
      .select(['g.group_id', 'g.display_name', 'g.member_count', 'g.last_synced_at', 'g.last_error', 'g.missing_since'])
      .select(sql<string | null>`coalesce(g.group_type, e.group_type)`.as('group_type'))
      .where('g.connection_id', '=', connectionId)
      .orderBy(sql`lower(g.display_name)`)
      .execute(),
    db
      .selectFrom('directory_users')
      .select((eb) => [eb.fn.countAll<number>().as('total'), sql<number>`count(*) filter (where is_guest)`.as('guests'), sql<number>`count(*) filter (where account_enabled = false)`.as('disabled')])
      .where('connection_id', '=', connectionId)
      .where('removed_at', 'is', null)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('directory_users')
      .select(['email_domain', (eb) => eb.fn.countAll<number>().as('users')])
      .where('connection_id', '=', connectionId)
      .where('removed_at', 'is', null)
      .where('email_domain', 'is not', null)
      .where('email_domain', '!=', '')
      .groupBy('email_domain')
      .orderBy('users', 'desc')
      .orderBy('email_domain')
      .execute(),
    db.selectFrom('sync_runs').selectAll().where('connection_id', '=', connectionId).orderBy('started_at', 'desc').limit(1).executeTakeFirst(),
    // A sample of three names per group, for the Groups tab.
    sql<{ group_id: string; names: string[] }>`
      select group_id, (array_agg(display_name order by display_name))[1:3] as names
      from (select m.group_id, u.display_name, row_number() over (partition by m.group_id order by u.display_name) as n
            from group_memberships m join directory_users u on u.connection_id = m.connection_id and u.user_id = m.user_id
            where m.connection_id = ${connectionId} and u.removed_at is null) ranked
      where n <= 3 group by group_id`.execute(db),
  ]);
  const sampleOf = new Map(samples.rows.map((row) => [row.group_id, row.names]));
  return {
    groups: groups.map((group) => ({ ...group, sample: sampleOf.get(group.group_id) ?? [] })),
    users: { total: Number(users.total), guests: Number(users.guests), disabled: Number(users.disabled) },
    domains,
    lastRun,
  };
}

/**
 * One page of the deduplicated user list, by name then id (keyset: page 2,000 costs what page 1
 * costs), optionally filtered by name or email.
 */
export function usersPage(db: Db, connectionId: string, options: { query?: string; after?: { name: string; id: string } }) {
  let select = db
    .selectFrom('directory_users')
    .select(['user_id', 'display_name', 'mail', 'user_principal_name', 'is_guest', 'is_shared_mailbox', 'account_enabled'])
    .where('connection_id', '=', connectionId)
    .where('removed_at', 'is', null);
  if (options.query) {
    const pattern = `%${options.query.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
    select = select.where((eb) => eb.or([eb('display_name', 'ilike', pattern), eb('mail', 'ilike', pattern), eb('user_principal_name', 'ilike', pattern)]));
  }
  if (options.after) {
    const { name, id } = options.after;
    select = select.where(sql<boolean>`(coalesce(display_name, ''), user_id) > (${name}, ${id}::uuid)`);
  }
  return select.orderBy(sql`coalesce(display_name, '')`).orderBy('user_id').limit(USERS_PAGE + 1).execute();
}

export async function activeUserCount(db: Db, connectionId: string): Promise<number> {
  const row = await db.selectFrom('directory_users').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', connectionId).where('removed_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Disconnect: the connection's users leave Hook (softly, with the reason), its groups stop syncing. */
export async function disconnectConnection(db: Db, connectionId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('directory_users')
      .set({ removed_at: new Date(), removed_reason: 'Directory disconnected', updated_at: new Date() })
      .where('connection_id', '=', connectionId)
      .where('removed_at', 'is', null)
      .execute();
    await trx.deleteFrom('group_memberships').where('connection_id', '=', connectionId).execute();
    await trx.deleteFrom('synced_groups').where('connection_id', '=', connectionId).execute();
    await trx.updateTable('entra_connections').set({ status: 'disconnected', sync_status: 'idle', pending_removals: 0, updated_at: new Date() }).where('id', '=', connectionId).execute();
  });
}

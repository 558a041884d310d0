import type { Writable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

type Db = Kysely<Database>;

const PAGE = 5_000;
export const CSV_HEADER = ['Hook id', 'Entra object id', 'Name', 'Email', 'User principal name', 'Guest', 'Disabled', 'Possibly a shared mailbox', 'Email domain', 'Synced groups', 'In Hook since'];

/**
 * One CSV field (RFC 4180). Names come from Entra, where anyone who can edit a group or a profile
 * writes them: a field a spreadsheet would take for a formula (=, +, -, @, tab, CR) starts with
 * a quote mark, so opening the export never runs one (OWASP's advice on CSV injection).
 */
export function csvField(value: string | number | boolean | null): string {
  let text = value === null ? '' : typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Writes the connection's active users (All users) as CSV to `out`, by name then id, a page of
 * rows at a time, waiting whenever the client reads slower than the database answers.
 */
export async function exportUsersCsv(db: Db, connectionId: string, out: Writable): Promise<number> {
  out.write(`\ufeff${CSV_HEADER.map(csvField).join(',')}\r\n`); // the BOM: spreadsheets read UTF-8 names right
  let after: { name: string; id: string } | undefined;
  let written = 0;
  for (;;) {
    let query = db
      .selectFrom('directory_users as u')
      .select(['u.id', 'u.user_id', 'u.display_name', 'u.mail', 'u.user_principal_name', 'u.is_guest', 'u.account_enabled', 'u.is_shared_mailbox', 'u.email_domain', 'u.first_seen_at'])
      .select(
        sql<string | null>`(select string_agg(g.display_name, '; ' order by g.display_name) from group_memberships m
          join synced_groups g on g.connection_id = m.connection_id and g.group_id = m.group_id
          where m.connection_id = u.connection_id and m.user_id = u.user_id)`.as('groups'),
      )
      .where('u.connection_id', '=', connectionId)
      .where('u.removed_at', 'is', null);
    if (after) query = query.where(sql<boolean>`(coalesce(u.display_name, ''), u.user_id) > (${after.name}, ${after.id}::uuid)`);
    const rows = await query.orderBy(sql`coalesce(u.display_name, '')`).orderBy('u.user_id').limit(PAGE).execute();
    for (const row of rows) {
      const line = [row.id, row.user_id, row.display_name, row.mail, row.user_principal_name, row.is_guest, row.account_enabled === false, row.is_shared_mailbox, row.email_domain, row.groups, row.first_seen_at.toISOString()];
      if (!out.write(`${line.map(csvField).join(',')}\r\n`)) await drained(out);
      if (out.destroyed) return written; // the client went away: stop reading
    }
    written += rows.length;
    if (rows.length < PAGE) return written;
    const last = rows.at(-1)!;
    after = { name: last.display_name ?? '', id: last.user_id };
  }
}

/** Until the client has taken what is buffered, or has gone. */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

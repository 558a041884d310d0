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
  // The synced groups' names once; each page then looks up only its own users' memberships.
  const groups = await db.selectFrom('synced_groups').select(['group_id', 'display_name']).where('connection_id', '=', connectionId).execute();
  const nameOf = new Map(groups.map((group) => [group.group_id, group.display_name]));
  let after: { name: string; id: string } | undefined;
  let written = 0;
  for (;;) {
    let query = db
      .selectFrom('directory_users')
      .select(['id', 'user_id', 'display_name', 'mail', 'user_principal_name', 'is_guest', 'account_enabled', 'is_shared_mailbox', 'email_domain', 'first_seen_at'])
      .where('connection_id', '=', connectionId)
      .where('removed_at', 'is', null);
    if (after) query = query.where(sql<boolean>`(coalesce(display_name, ''), user_id) > (${after.name}, ${after.id}::uuid)`);
    const rows = await query.orderBy(sql`coalesce(display_name, '')`).orderBy('user_id').limit(PAGE).execute();
    const memberships = rows.length === 0 ? [] : await db.selectFrom('group_memberships').select(['user_id', 'group_id']).where('connection_id', '=', connectionId).where('user_id', '=', sql<string>`any(${rows.map((row) => row.user_id)}::uuid[])`).execute();
    const groupsOf = new Map<string, string[]>();
    for (const { user_id, group_id } of memberships) {
      const name = nameOf.get(group_id);
      if (name !== undefined) groupsOf.set(user_id, [...(groupsOf.get(user_id) ?? []), name]);
    }
    for (const row of rows) {
      const line = [row.id, row.user_id, row.display_name, row.mail, row.user_principal_name, row.is_guest, row.account_enabled === false, row.is_shared_mailbox, row.email_domain, (groupsOf.get(row.user_id) ?? []).sort().join('; '), row.first_seen_at.toISOString()];
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

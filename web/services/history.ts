import type { HistoryRow } from '../../db/repositories/history.js';
import { HISTORY_PAGE } from '../../db/repositories/history.js';

type Changes = Record<string, { from: unknown; to: unknown }>;
interface EventData {
  returning?: boolean;
  changes?: Changes;
  user?: { removedReason?: string | null };
  group?: { name?: string };
}

const FIELDS: Record<string, string> = { displayName: 'name', email: 'email', userPrincipalName: 'UPN', isGuest: 'guest', isSharedMailbox: 'possible shared mailbox', name: 'name' };
const shown = (value: unknown) => (value === null || value === undefined || value === '' ? '(none)' : typeof value === 'boolean' ? (value ? 'yes' : 'no') : typeof value === 'string' ? value : JSON.stringify(value));
const changed = (changes: Changes = {}) => Object.entries(changes).map(([field, { from, to }]) => `${FIELDS[field] ?? field} from “${shown(from)}” to “${shown(to)}”`).join('; ');

/** What one event says, in the words of the history pages; `about`: whose history it is. */
function describe(row: HistoryRow, about: 'user' | 'group'): string {
  const data = row.data as EventData;
  const group = row.group_name ?? data.group?.name ?? 'a group no longer synced';
  const user = row.user_name ?? row.user_mail ?? 'a user';
  switch (row.type) {
    case 'user.added':
      return data.returning ? 'Back in Hook' : 'Added to Hook';
    case 'user.updated':
      return `Changed in Entra: ${changed(data.changes)}`;
    case 'user.deactivated':
      return 'Account disabled in Entra: no longer an active Hook user';
    case 'user.reactivated':
      return 'Account enabled again in Entra';
    case 'user.removed':
      return `Removed from Hook: ${data.user?.removedReason ?? 'in no synced group'}`;
    case 'membership.added':
      return about === 'user' ? `Joined ${group}` : `${user} joined`;
    case 'membership.removed':
      return about === 'user' ? `Left ${group}` : `${user} left`;
    case 'group.added':
      return 'Chosen for sync';
    case 'group.renamed':
      return `Renamed in Entra: ${changed(data.changes)}`;
    case 'group.removed':
      return 'Taken out of the sync';
    default:
      return row.type;
  }
}

/** Why a cycle ran, as the Sync runs tab and the history pages say it. */
export const TRIGGERS: Record<string, string> = { schedule: 'scheduled', 'sync-now': 'Sync now', selection: 'after a saved selection', reconnect: 'after reconnecting', confirm: 'after confirming removals' };

/** Which cycle made the change, or that an admin did. */
function cause(row: HistoryRow): string {
  if (row.run_id === null || row.run_started_at === null) return 'By an admin';
  const when = row.run_started_at.toISOString().replace('T', ' ').slice(0, 16);
  return `Sync of ${when} UTC (${row.run_kind === 'delta' ? 'changes' : 'full read'}${row.run_trigger ? `, ${TRIGGERS[row.run_trigger] ?? row.run_trigger}` : ''})`;
}

/** A page of history lines, newest first, and where the next (older) page starts. */
export function historyLines(rows: HistoryRow[], about: 'user' | 'group') {
  const shownRows = rows.slice(0, HISTORY_PAGE);
  return {
    lines: shownRows.map((row) => ({ id: row.id, at: row.occurred_at, type: row.type, text: describe(row, about), cause: cause(row), runId: row.run_id })),
    olderThan: rows.length > HISTORY_PAGE ? shownRows.at(-1)!.id : undefined,
  };
}

import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

type Db = Kysely<Database>;

/** How long a group may fail before its admins are told on every Settings page. */
export const GROUP_FAILING_ALERT_MS = 24 * 60 * 60 * 1000;

/**
 * An org's connections that need an admin now: consent revoked, removals waiting for
 * confirmation, or groups that have not synced for a day while failing (their members are kept).
 */
export async function connectionAlerts(db: Db, orgId: string, now = new Date()) {
  const since = new Date(now.getTime() - GROUP_FAILING_ALERT_MS);
  const rows = await db
    .selectFrom('entra_connections as c')
    .select(['c.id', 'c.tenant_name', 'c.status', 'c.sync_status', 'c.pending_removals'])
    .select((eb) =>
      eb
        .selectFrom('synced_groups as g')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('g.connection_id', '=', 'c.id')
        .where('g.last_error', 'is not', null)
        .where(sql<boolean>`coalesce(g.last_synced_at, g.added_at) < ${since}`)
        .as('failing_groups'),
    )
    .where('c.org_id', '=', orgId)
    .where('c.status', '<>', 'disconnected')
    .orderBy('c.connected_at')
    .execute();
  return rows.flatMap((row) => {
    const alerts: Array<{ connectionId: string; tenantName: string; kind: 'consent' | 'removals' | 'failing'; count: number }> = [];
    const base = { connectionId: row.id, tenantName: row.tenant_name };
    if (row.status === 'needs_reconnect') alerts.push({ ...base, kind: 'consent', count: 0 });
    if (row.sync_status === 'awaiting_confirmation' && row.pending_removals > 0) alerts.push({ ...base, kind: 'removals', count: row.pending_removals });
    if ((row.failing_groups ?? 0) > 0) alerts.push({ ...base, kind: 'failing', count: row.failing_groups ?? 0 });
    return alerts;
  });
}

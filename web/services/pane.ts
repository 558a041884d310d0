import type { Db } from '../../db/client.js';
import type { Connection } from '../../db/repositories/connections.js';
import { latestRun, paneSummary, usersPage, USERS_PAGE } from '../../db/repositories/directory.js';
import { recentRuns } from '../../db/repositories/history.js';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import { directorySyncWorkflowId, syncStatusQuery, type DirectorySyncStatus } from '../../workflows/sync/messages.js';

/** The pane's query string: the tab, the All users search and where its page starts. */
export const paneQuery = z.object({
  // Control characters (NUL among them, which PostgreSQL text refuses) never match a name.
  q: z
    .string()
    .max(100)
    .transform((value) => value.replace(/\p{Cc}/gu, '').trim())
    .optional(),
  afterName: z.string().max(500).refine((value) => !value.includes('\u0000')).optional(),
  afterId: z.uuid().optional(),
  tab: z.enum(['groups', 'users', 'runs']).optional(),
});

export type PaneQuery = z.infer<typeof paneQuery>;

export type Pane = Awaited<ReturnType<ReturnType<typeof createPaneService>['pane']>>;

/** Reads what the workspace pane shows: for the Integrations page, the pane's endpoint and its regions. */
export function createPaneService({ db, temporal }: { db: Db; temporal: Client }) {
  const syncStatus = (connection: Connection) =>
    temporal.workflow
      .getHandle(directorySyncWorkflowId(connection.id))
      .query(syncStatusQuery)
      .catch((): DirectorySyncStatus | undefined => undefined);

  /** One page of All users: search, and keyset paging from `afterName`/`afterId`. */
  async function usersList(connection: Connection, { q, afterName, afterId }: PaneQuery) {
    const rows = await usersPage(db, connection.id, { query: q, after: afterId ? { name: afterName ?? '', id: afterId } : undefined });
    return { connection, page: rows.slice(0, USERS_PAGE), more: rows.length > USERS_PAGE, query: q ?? '', appending: afterId !== undefined };
  }

  /** The Sync runs tab: recent cycles with their counts and the groups each could not read. */
  const runs = (connection: Connection) => recentRuns(db, connection.id);

  async function pane(connection: Connection, query: PaneQuery = {}) {
    const tab = query.tab ?? 'groups';
    const [summary, users, sync, cycles] = await Promise.all([paneSummary(db, connection.id), usersList(connection, query), syncStatus(connection), tab === 'runs' ? runs(connection) : []]);
    return { connection, tab, query: users.query, ...summary, page: users.page, more: users.more, sync, runs: cycles };
  }

  /** The sync-status region alone: what it polls while a sync runs. */
  async function statusRegion(connection: Connection, tab: NonNullable<PaneQuery['tab']>) {
    const [run, sync] = await Promise.all([latestRun(db, connection.id), syncStatus(connection)]);
    return { connection, tab, lastRun: run, sync };
  }

  return { usersList, pane, statusRegion, runs };
}

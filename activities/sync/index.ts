import { disconnectConnection } from '../../db/repositories/directory.js';
import type { CommitOptions } from '../../workflows/sync/messages.js';
import { keepHeartbeating } from '../heartbeat.js';
import { createAccessActivities } from './access.js';
import { commitSyncRun } from './commit.js';
import { createRunContexts, type SyncDeps } from './context.js';
import { createDeltaReadActivities } from './read-delta.js';
import { createFullReadActivities } from './read-full.js';

/**
 * The sync cycle's activities. A cycle reads Entra into the run's staging tables (read-full or
 * read-delta, one group at a time through read-group), asks about access when reads were refused,
 * and commits the run in one transaction (commit, whose decisions are the pure functions in
 * decide/). Nothing a user sees changes before the commit.
 */
export function createSyncActivities(deps: SyncDeps & { clock?: () => Date }) {
  const runContext = createRunContexts(deps);
  return {
    ...createFullReadActivities(deps, runContext),
    ...createDeltaReadActivities(deps, runContext),
    ...createAccessActivities(deps),

    commitSyncRun: (connectionId: string, runId: string, options: CommitOptions) => keepHeartbeating(() => 'committing', () => commitSyncRun(deps.db, connectionId, runId, options, deps.clock)),

    /** Disconnect, run by the sync workflow between cycles: the users leave Hook, the groups stop syncing. Idempotent. */
    async disconnectConnection(connectionId: string): Promise<{ removed: number }> {
      return { removed: await disconnectConnection(deps.db, connectionId) };
    },
  };
}

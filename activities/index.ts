import type { Db } from '../db/client.js';

export interface ActivityDeps {
  db: Db;
}

/**
 * Every activity the worker hosts, built over injected clients so tests can build the same
 * object over real Postgres and the Entra emulator. Grouped by integration as they arrive.
 */
export function createActivities(_deps: ActivityDeps) {
  return {};
}

export type Activities = ReturnType<typeof createActivities>;

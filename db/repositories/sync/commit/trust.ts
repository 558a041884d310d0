import type { Kysely } from 'kysely';
import type { Database } from '../../../schema.js';

type Db = Kysely<Database>;

/** What the trust decision reads: the synced groups, the run's outcomes, and the groups Hook read before. */
export async function trustInputs(trx: Db, connectionId: string, runId: string) {
  const [synced, outcomes, known] = await Promise.all([
    trx.selectFrom('synced_groups').select(['group_id', 'missing_since', 'last_synced_at']).where('connection_id', '=', connectionId).execute(),
    trx.selectFrom('sync_run_groups').selectAll().where('run_id', '=', runId).execute(),
    trx.selectFrom('directory_groups').select(['group_id', 'display_name']).where('connection_id', '=', connectionId).execute(),
  ]);
  return {
    synced,
    outcomes: new Map(outcomes.map((row) => [row.group_id, row])),
    knownNames: new Map(known.map((row) => [row.group_id, row.display_name])),
  };
}

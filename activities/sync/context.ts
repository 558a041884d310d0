import { ApplicationFailure, metricMeter } from '@temporalio/activity';
import type { Db } from '../../db/client.js';
import { stagePage, type StagedEdge, type StagedUser } from '../../db/repositories/sync/staging.js';
import { tenantGraph, type EntraClients, type TenantGraph } from '../graph/clients.js';
import { classifyEntraError } from '../graph/errors.js';
import { patientGraph } from '../graph/patience.js';
import { mayReadHiddenMembers } from '../graph/token-roles.js';
import { FailureType } from '../../workflows/failures.js';
import { WORKER_METRICS } from '../metrics.js';
import { emailDomain, isGuest, isSharedMailbox, type GraphUser } from '../graph/users.js';

/** Runs whose staged users one process remembers (a run's list is dropped when it is the oldest). */
const STAGED_RUNS_REMEMBERED = 16;

export interface SyncDeps {
  db: Db;
  entra: EntraClients;
}

/** What one run's reads share: the database, the tenant's Graph, and who this process has staged. */
export interface RunContext {
  db: Db;
  graph: TenantGraph;
  runId: string;
  graphOrigin: string;
  mayReadHidden: () => Promise<boolean>;
  /** Stages a page of a full read: its edges, and its users this process has not staged for the run yet. */
  stageReadPage: (groupId: string, users: GraphUser[], edges: StagedEdge[]) => Promise<void>;
}

/** The guest, shared-mailbox and email-domain rules, applied once, here. */
export const toStagedUser = (user: GraphUser): StagedUser => ({
  id: user.id,
  displayName: user.displayName ?? null,
  mail: user.mail ?? null,
  userPrincipalName: user.userPrincipalName ?? null,
  userType: user.userType ?? null,
  accountEnabled: user.accountEnabled ?? null,
  isGuest: isGuest(user),
  isSharedMailbox: isSharedMailbox(user),
  emailDomain: emailDomain(user),
});

/**
 * Users this process has staged for a full read, by run: a user in three groups comes three times
 * with the same properties, and only the first needs writing. Only rows already written are
 * listed, so a skipped user is in the table. Two reads meeting a user at the same moment both
 * write it, and a run not listed here (another process, or evicted) writes its users again: the
 * conflict clause keeps one row, the same.
 */
export function createRunContexts({ db, entra }: SyncDeps) {
  const stagedByRun = new Map<string, Set<string>>();
  const stagedIn = (runId: string) => {
    let staged = stagedByRun.get(runId);
    if (staged === undefined) {
      if (stagedByRun.size >= STAGED_RUNS_REMEMBERED) stagedByRun.delete(stagedByRun.keys().next().value!);
      stagedByRun.set(runId, (staged = new Set()));
    }
    return staged;
  };
  return (tenantId: string, runId: string): RunContext => ({
    db,
    graph: patientGraph(tenantGraph(entra, tenantId)),
    runId,
    graphOrigin: entra.settings.graphOrigin,
    mayReadHidden: () => mayReadHiddenMembers(entra, tenantId).catch((error: unknown) => Promise.reject(classifyEntraError(error))),
    stageReadPage: async (groupId, users, edges) => {
      const staged = stagedIn(runId);
      const fresh = users.filter((user) => !staged.has(user.id));
      await stagePage(db, runId, groupId, fresh.map(toStagedUser), edges);
      for (const user of fresh) staged.add(user.id);
    },
  });
}

/** Graph 429s that outlasted the client's retries, for operators (Prometheus, WORKER_METRICS_PORT). */
export function countThrottled(error: unknown): void {
  if (error instanceof ApplicationFailure && error.type === FailureType.GraphThrottled) {
    metricMeter.createCounter(WORKER_METRICS.graphThrottled, 'responses', 'Graph 429s that outlasted the client retries').add(1);
  }
}

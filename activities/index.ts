import type { Db } from '../db/client.js';
import type { EntraClients } from './graph/clients.js';
import { createOnboardingActivities } from './onboarding.js';
import { createSelectionActivities, type SelectionDeps } from './selection/index.js';
import { createSignInActivities } from './sign-in.js';
import { createSyncActivities } from './sync/index.js';
import { createWebhookActivities, type WebhookDeps } from './webhooks/index.js';

export interface ActivityDeps {
  db: Db;
  entra: EntraClients;
  temporal: SelectionDeps['temporal'];
  /** The time commits stamp and grace periods count from; tests move it instead of sleeping. */
  clock?: () => Date;
  /** Webhook deliveries: private targets (development only) and the NOTIFY listener. */
  webhooks?: Omit<WebhookDeps, 'db'>;
}

/**
 * Every activity the worker hosts, built over injected clients so tests can build the same
 * object over real Postgres and the Entra emulator. Grouped by integration.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createOnboardingActivities(deps),
    ...createSignInActivities(deps),
    ...createSelectionActivities(deps),
    ...createSyncActivities(deps),
    ...createWebhookActivities({ db: deps.db, ...deps.webhooks }),
  };
}

export type Activities = ReturnType<typeof createActivities>;

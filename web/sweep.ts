import type { Db } from '../db/client.js';
import { deleteExpiredConsentRequests } from '../db/repositories/consent-requests.js';
import { deleteExpiredSessions } from '../db/repositories/sessions.js';
import { deleteOldSignInFailures } from '../db/repositories/sign-in-failures.js';
import { deleteEventsBefore } from '../db/repositories/events.js';
import { EVENT_RETENTION_DAYS } from './api/schemas.js';
import type { Logger } from '../lib/logger.js';
import { SIGN_IN_WINDOW_MS } from './routes/auth.js';

const SWEEP_EVERY_MS = 15 * 60 * 1000;

/**
 * Deletes what can no longer be used: expired sessions, sign-in failures past their window, old
 * consent requests, and directory events past their retention.
 */
export async function sweepExpired(db: Db, now = new Date()) {
  const [sessions, signInFailures, consentRequests, events] = await Promise.all([
    deleteExpiredSessions(db),
    deleteOldSignInFailures(db, SIGN_IN_WINDOW_MS),
    deleteExpiredConsentRequests(db),
    deleteEventsBefore(db, new Date(now.getTime() - EVENT_RETENTION_DAYS * 24 * 60 * 60 * 1000)),
  ]);
  return { sessions, signInFailures, consentRequests, events };
}

/**
 * Sweeps now and every 15 minutes while the web process runs. Every replica sweeps; the deletes
 * are idempotent, so two replicas sweeping at once only do the work twice.
 */
export function startSweeper(db: Db, logger: Logger, everyMs = SWEEP_EVERY_MS): () => void {
  const sweep = () =>
    sweepExpired(db)
      .then((deleted) => logger.info({ deleted }, 'expired sessions and sign-in records deleted'))
      .catch((error: unknown) => logger.warn({ err: error }, 'sweep of expired sessions failed; it runs again later'));
  void sweep();
  const timer = setInterval(() => void sweep(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

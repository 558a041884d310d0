import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import { directorySyncWorkflowId, reconnectedSignal } from '../sync/messages.js';
import type { createOnboardingActivities } from '../../activities/onboarding.js';
import { FailureType, NON_RETRYABLE } from '../failures.js';
import {
  consentAnsweredSignal,
  type ConsentAnswer,
  onboardingStatusQuery,
  type OnboardingFailure,
  type OnboardingInput,
  type OnboardingStatus,
} from './messages.js';

type Activities = ReturnType<typeof createOnboardingActivities>;

const DEFAULT_CONSENT_TIMEOUT_MS = 30 * 60 * 1000;

// Entra needs a few seconds to replicate a freshly consented app (AADSTS700016 meanwhile), and
// Graph may blip: retry briefly, but never failures a retry cannot fix.
const { verifyTenant } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});
const { saveConnection } = proxyActivities<Activities>({ startToCloseTimeout: '10 seconds' });

/** Connect: wait for the admin's consent, verify the tenant, record the connection. */
export async function onboardingWorkflow(input: OnboardingInput): Promise<OnboardingStatus> {
  const status: OnboardingStatus = { stage: 'awaiting_consent' };
  let consent: ConsentAnswer | undefined;

  setHandler(consentAnsweredSignal, (answer) => {
    consent ??= answer; // the first answer counts; a replayed callback changes nothing
  });
  setHandler(onboardingStatusQuery, () => status);

  const fail = (failure: OnboardingFailure): OnboardingStatus => {
    status.stage = 'failed';
    status.failure = failure;
    return status;
  };

  const answered = await condition(() => consent !== undefined, input.consentTimeoutMs ?? DEFAULT_CONSENT_TIMEOUT_MS);
  if (!answered || consent === undefined) {
    return fail({ type: FailureType.ConsentTimedOut, message: 'No answer from Microsoft’s consent screen in time.' });
  }
  if ('error' in consent) {
    return fail({ type: FailureType.ConsentDenied, message: consent.error, detail: consent.description });
  }

  status.stage = 'verifying';
  status.tenantId = consent.tenantId;
  try {
    const tenant = await verifyTenant(consent.tenantId);
    status.tenantName = tenant.displayName;
    status.connectionId = await saveConnection(input.orgId, tenant);
    // A reconnect: the connection's sync (if it runs) was waiting for consent; wake it up.
    // Added after runs were recorded: patched() keeps their replay deterministic.
    if (patched('signal-sync-on-reconnect')) {
      await getExternalWorkflowHandle(directorySyncWorkflowId(status.connectionId))
      .signal(reconnectedSignal)
      .catch(() => undefined); // no sync yet: the first save starts it
    }
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : error;
    if (cause instanceof ApplicationFailure && cause.type) {
      const details = cause.details?.[0] as { aadsts?: string | null; code?: string | null } | undefined;
      const detail = details?.aadsts ? `AADSTS${details.aadsts}` : (details?.code ?? undefined);
      return fail({ type: cause.type as FailureType, message: cause.message, detail });
    }
    throw error;
  }
  status.stage = 'connected';
  return status;
}

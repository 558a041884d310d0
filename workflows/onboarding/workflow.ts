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
import { failureOf, FailureType, NON_RETRYABLE } from '../failures.js';
import type { createSignInActivities } from '../../activities/sign-in.js';
import {
  consentAnsweredSignal,
  type ConsentAnswer,
  onboardingStatusQuery,
  type OnboardingFailure,
  type OnboardingInput,
  type OnboardingStatus,
  type ProvenAdmin,
  signedInUpdate,
  type SignInAnswer,
  type SignInResult,
} from './messages.js';

type Activities = ReturnType<typeof createOnboardingActivities> & ReturnType<typeof createSignInActivities>;

const DEFAULT_CONSENT_TIMEOUT_MS = 30 * 60 * 1000;

// Entra needs a few seconds to replicate a freshly consented app (AADSTS700016 meanwhile), and
// Graph may blip: retry briefly, but never failures a retry cannot fix.
const { verifyTenant } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});
const { saveConnection } = proxyActivities<Activities>({ startToCloseTimeout: '10 seconds' });
// The admin waits in the browser: a few quick tries (network), never a refused code or token.
const { proveSignIn } = proxyActivities<Activities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '500 milliseconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * Connect: prove who the admin is (Microsoft's sign-in: the tenant and a role that can grant
 * consent), wait for the admin consent of that tenant, verify it, record the connection.
 */
export async function onboardingWorkflow(input: OnboardingInput): Promise<OnboardingStatus> {
  // Runs recorded before tenant proof replay without it; every new run proves the tenant first
  // (and the web no longer accepts the old runs' consent answers).
  const proving = patched('prove-tenant-ownership');
  const status: OnboardingStatus = { stage: proving ? 'signing_in' : 'awaiting_consent' };
  const deadline = Date.now() + (input.consentTimeoutMs ?? DEFAULT_CONSENT_TIMEOUT_MS);
  let consent: ConsentAnswer | undefined;
  let proven: ProvenAdmin | undefined;
  let signInFailure: OnboardingFailure | undefined;
  let signingIn = false;

  setHandler(consentAnsweredSignal, (answer) => {
    if (proving && proven === undefined) return; // no consent counts before the tenant is proven
    consent ??= answer; // the first answer counts; a replayed callback changes nothing
  });
  setHandler(onboardingStatusQuery, () => status);
  if (proving) {
    setHandler(
      signedInUpdate,
      async (answer): Promise<SignInResult> => {
        signingIn = true;
        if ('error' in answer) {
          signInFailure = { type: FailureType.SignInRefused, message: answer.error, detail: answer.description };
          return { ok: false, failure: signInFailure };
        }
        try {
          proven = await proveSignIn(answer.stateHash);
          status.stage = 'awaiting_consent';
          status.tenantId = proven.tenantId;
          return { ok: true, tenantId: proven.tenantId };
        } catch (error) {
          signInFailure = failureOf(error);
          return { ok: false, failure: signInFailure };
        }
      },
      {
        validator: (_answer: SignInAnswer) => {
          if (signingIn || status.stage !== 'signing_in') throw ApplicationFailure.create({ type: FailureType.StaleSignIn, message: 'This sign-in was already answered.', nonRetryable: true });
        },
      },
    );
  }

  const fail = (failure: OnboardingFailure): OnboardingStatus => {
    status.stage = 'failed';
    status.failure = failure;
    return status;
  };
  const timedOut = () => fail({ type: FailureType.ConsentTimedOut, message: 'No answer from Microsoft’s sign-in and consent screens in time.' });

  if (proving) {
    const signedIn = await condition(() => proven !== undefined || signInFailure !== undefined, Math.max(0, deadline - Date.now()));
    if (!signedIn) return timedOut();
    if (signInFailure) return fail(signInFailure);
  }
  const answered = await condition(() => consent !== undefined, Math.max(0, deadline - Date.now()));
  if (!answered || consent === undefined) return timedOut();
  if ('error' in consent) {
    return fail({ type: FailureType.ConsentDenied, message: consent.error, detail: consent.description });
  }
  if (proven && consent.tenantId.toLowerCase() !== proven.tenantId) {
    return fail({ type: FailureType.TenantMismatch, message: 'Microsoft’s consent answer names another tenant than the one you signed in to.' });
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
    if (!(error instanceof ActivityFailure)) throw error;
    return fail(failureOf(error));
  }
  status.stage = 'connected';
  return status;
}

import { FailureType } from '../../workflows/failures.js';
import type { OnboardingFailure } from '../../workflows/onboarding/messages.js';

// The seed's advice when consent fails.
export const CONSENT_HINT =
  "The most common cause is clicking Connect with an account that can't grant tenant-wide consent. Pull in your identity admin and try again.";

/** The first line of what Microsoft said, cut to a length a toast can show. */
export function firstLine(text: string): string {
  return text.split(/\r?\n/)[0]!.slice(0, 500);
}

/** An onboarding failure in the admin's words: what happened, and what to do about it. */
export function explain(failure: OnboardingFailure): { message: string; hint?: string } {
  switch (failure.type) {
    case FailureType.ConsentDenied:
      return { message: firstLine(failure.detail ?? failure.message), hint: CONSENT_HINT };
    case FailureType.SignInRefused:
      return { message: `Microsoft did not complete the sign-in${failure.detail ? ` (${firstLine(failure.detail)})` : ''}.`, hint: CONSENT_HINT };
    case FailureType.NotTenantAdmin:
      return {
        message: `${failure.detail ?? 'The account you signed in with'} is not an administrator who can grant tenant-wide consent (Global Administrator, Privileged Role Administrator, Cloud Application Administrator or Application Administrator).`,
        hint: CONSENT_HINT,
      };
    case FailureType.RolesClaimMissing:
      return { message: "Microsoft's sign-in did not say which directory roles you hold, so Hook cannot check that you may grant consent.", hint: "Hook's app registration must send directory roles (see the README); tell Hook's operators." };
    case FailureType.IdTokenInvalid:
      return { message: "Microsoft's sign-in answer could not be verified, so nothing was connected.", hint: 'Click Connect to try again.' };
    case FailureType.TenantMismatch:
      return { message: 'The consent came back for a different tenant than the one you signed in to, so nothing was connected.', hint: CONSENT_HINT };
    case FailureType.ConsentTimedOut:
      return { message: 'Microsoft did not send the consent answer in time.', hint: 'Click Connect again when your identity admin is ready to approve.' };
    case FailureType.TokenRefused:
      return { message: `Microsoft refused Hook's sign-in for your tenant${failure.detail ? ` (${failure.detail})` : ''}.`, hint: CONSENT_HINT };
    case FailureType.GraphRefused:
      return { message: 'Microsoft Graph refused to let Hook read your directory.', hint: 'Check that the admin approved every permission Hook requests, then try again.' };
    default:
      return { message: 'Hook could not reach Microsoft Entra. Try again in a few minutes.' };
  }
}

import { ActivityFailure, ApplicationFailure } from '@temporalio/common';

/**
 * The failure types activities raise (as ApplicationFailure.type) and workflows branch on.
 * Shared by both sides; classification happens once, in activities/graph/errors.ts.
 */
export const FailureType = {
  /** The admin declined, or Microsoft refused the consent (error on the redirect). */
  ConsentDenied: 'ConsentDenied',
  /** Microsoft refused the admin's sign-in, or its code (error on the redirect, or from the token endpoint). */
  SignInRefused: 'SignInRefused',
  /** The id_token failed validation: signature, issuer, audience, nonce or lifetime. */
  IdTokenInvalid: 'IdTokenInvalid',
  /** The id_token carries no `wids` claim: Hook's app registration does not emit directory roles. */
  RolesClaimMissing: 'RolesClaimMissing',
  /** The signed-in user holds no directory role that can grant tenant-wide consent. */
  NotTenantAdmin: 'NotTenantAdmin',
  /** The consent answer names another tenant than the one the sign-in proved. */
  TenantMismatch: 'TenantMismatch',
  /** No consent answer arrived before the deadline. */
  ConsentTimedOut: 'ConsentTimedOut',
  /** The token endpoint refused: secret wrong or expired, app not installed in the tenant (AADSTS code in details). */
  TokenRefused: 'TokenRefused',
  /** Graph refused the app: 401 or 403 (permissions removed, consent revoked). */
  GraphRefused: 'GraphRefused',
  /** The object is gone: 404 Request_ResourceNotFound. */
  GraphNotFound: 'GraphNotFound',
  /** Graph throttled us past the client's own retries (429). */
  GraphThrottled: 'GraphThrottled',
  /** Graph or the sign-in service failed or could not be reached (5xx, network). */
  EntraUnavailable: 'EntraUnavailable',
  /** Graph answered something we cannot use (malformed body). */
  GraphBadResponse: 'GraphBadResponse',
  /** PostgreSQL failed under an activity (retried by Temporal). */
  DatabaseError: 'DatabaseError',
  // Refusals of an admin's request, given back by update validators (the page shows the message):
  /** The selection changed since the admin's page was loaded (another admin or tab). */
  StaleSelection: 'StaleSelection',
  /** The request names something that is not there (unknown groups, malformed ids). */
  InvalidInput: 'InvalidInput',
  /** Too early: the groups are still loading, or nothing was previewed. */
  NotReady: 'NotReady',
  /** The sign-in of this Connect was answered already. */
  StaleSignIn: 'StaleSignIn',
  /** Nothing is held for confirmation any more. */
  NothingToConfirm: 'NothingToConfirm',
  /** The held removals are not the set the admin saw. */
  RemovalsChanged: 'RemovalsChanged',
  /** The connection was disconnected. */
  Disconnected: 'Disconnected',
  /** A hidden-membership group Hook may not read (no Member.Read.Hidden): Graph would answer it as empty. */
  HiddenMembership: 'HiddenMembership',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failures a retry cannot fix: the workflow reports them instead of retrying. */
export const NON_RETRYABLE: FailureType[] = [
  FailureType.SignInRefused,
  FailureType.IdTokenInvalid,
  FailureType.RolesClaimMissing,
  FailureType.NotTenantAdmin,
  FailureType.TenantMismatch,
  FailureType.TokenRefused,
  FailureType.GraphRefused,
  FailureType.GraphNotFound,
  FailureType.GraphBadResponse,
];

/** What a workflow knows of a failed activity: its named type, the message, and Microsoft's code when there is one. */
export interface Failure {
  type: FailureType;
  message: string;
  /** The AADSTS code or Graph's error code. */
  detail?: string;
}

/** The one place a workflow turns an activity's failure into a Failure (activities name the type). */
export function failureOf(error: unknown): Failure {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type) {
    const details = cause.details?.[0] as { aadsts?: string | null; code?: string | null } | undefined;
    const detail = details?.aadsts ? `AADSTS${details.aadsts}` : (details?.code ?? undefined);
    return { type: cause.type as FailureType, message: cause.message, ...(detail === undefined ? {} : { detail }) };
  }
  return { type: FailureType.EntraUnavailable, message: cause instanceof Error ? cause.message : 'failed' };
}

/** For an admin: what went wrong, in words, without the SDK's wrapping ("Activity task failed"). */
export function describeFailure(failure: Failure): string {
  switch (failure.type) {
    case FailureType.TokenRefused:
      return `Microsoft refused Hook's sign-in for your tenant${failure.detail ? ` (${failure.detail})` : ''}. Reconnect with an identity admin.`;
    case FailureType.GraphRefused:
      return 'Microsoft Graph refused to let Hook read your groups. Check that the admin approved every permission Hook requests, then try again.';
    case FailureType.HiddenMembership:
      return 'This group has hidden membership, which Hook may not read. Loosening its visibility in Entra usually fixes it on the next sync; or grant Hook Member.Read.Hidden (reconnect with an identity admin).';
    case FailureType.GraphThrottled:
    case FailureType.EntraUnavailable:
      return 'Hook could not reach Microsoft Entra just now. Try again in a few minutes.';
    default:
      return failure.message;
  }
}

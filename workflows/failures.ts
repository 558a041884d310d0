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

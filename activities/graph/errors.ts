import { ApplicationFailure } from '@temporalio/activity';
import { GraphError } from '@microsoft/microsoft-graph-client';
import { FailureType } from '../../workflows/failures.js';

/**
 * The one place that turns what MSAL and Graph throw into named failures. Branches on status
 * and error codes, never on message text.
 */
export function classifyEntraError(error: unknown): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;

  // MSAL: ServerError carries the token endpoint's `error` as errorCode and the AADSTS number.
  const msal = error as { errorCode?: string; errorMessage?: string; errorNo?: string | number; name?: string };
  if (typeof msal.errorCode === 'string' && (msal.name === 'ServerError' || msal.name === 'ClientAuthError' || msal.name === 'AuthError')) {
    const aadsts = msal.errorNo !== undefined ? String(msal.errorNo) : /AADSTS(\d+)/.exec(msal.errorMessage ?? '')?.[1];
    if (['network_error', 'endpoints_resolution_error', 'server_error', 'temporarily_unavailable'].includes(msal.errorCode) && aadsts !== '90002') {
      return ApplicationFailure.create({ type: FailureType.EntraUnavailable, message: `sign-in service unavailable: ${msal.errorCode}`, details: [{ code: msal.errorCode }] });
    }
    // AADSTS700016 right after consent is Entra replicating the new service principal: worth a retry.
    return ApplicationFailure.create({
      type: FailureType.TokenRefused,
      message: `token refused: ${msal.errorCode}${aadsts ? ` (AADSTS${aadsts})` : ''}`,
      details: [{ code: msal.errorCode, aadsts: aadsts ?? null }],
      nonRetryable: aadsts !== '700016',
    });
  }

  if (error instanceof GraphError) {
    const status = error.statusCode;
    const details = [{ status, code: error.code ?? null, requestId: error.requestId ?? null }];
    if (status === 401 || status === 403) {
      return ApplicationFailure.create({ type: FailureType.GraphRefused, message: `Graph refused: ${status} ${error.code ?? ''}`.trim(), details, nonRetryable: true });
    }
    if (status === 404) {
      return ApplicationFailure.create({ type: FailureType.GraphNotFound, message: `not found in Entra: ${error.code ?? ''}`.trim(), details, nonRetryable: true });
    }
    // Graph names when to come back on a 429, and often on a 503 or 504 too.
    const retryAfter = Number(error.headers?.get('Retry-After'));
    const nextRetryDelay = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined;
    if (status === 429) {
      return ApplicationFailure.create({ type: FailureType.GraphThrottled, message: 'Graph throttled the request (429)', details, nextRetryDelay });
    }
    if (status >= 500 || status === -1 || status === 0) {
      return ApplicationFailure.create({ type: FailureType.EntraUnavailable, message: `Graph unavailable: ${status}`, details, nextRetryDelay });
    }
    return ApplicationFailure.create({ type: FailureType.GraphBadResponse, message: `Graph answered ${status} ${error.code ?? ''}`.trim(), details, nonRetryable: true });
  }

  const message = error instanceof Error ? error.message : String(error);
  // PostgreSQL's errors (pg's DatabaseError carries a severity) are ours, not Entra's.
  if (error instanceof Error && 'severity' in error) return ApplicationFailure.create({ type: FailureType.DatabaseError, message: `database: ${message}` });
  return ApplicationFailure.create({ type: FailureType.EntraUnavailable, message: `could not reach Entra: ${message}` });
}

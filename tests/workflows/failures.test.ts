import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { describeFailure, failureOf, FailureType } from '../../workflows/failures.js';

describe('failures, as every workflow reads them', () => {
  const wrapped = (cause: Error) => new ActivityFailure('Activity task failed', 'loadGroups', '1', RetryState.NON_RETRYABLE_FAILURE, undefined, cause);

  it('takes the named type, message and AADSTS code from inside the SDK’s wrapping', () => {
    const refused = ApplicationFailure.create({ type: FailureType.TokenRefused, message: 'token refused: invalid_client (AADSTS7000215)', details: [{ code: 'invalid_client', aadsts: '7000215' }] });
    expect(failureOf(wrapped(refused))).toEqual({ type: 'TokenRefused', message: 'token refused: invalid_client (AADSTS7000215)', detail: 'AADSTS7000215' });
    expect(failureOf(wrapped(new Error('socket hang up')))).toEqual({ type: 'EntraUnavailable', message: 'socket hang up' });
  });

  it('tells the admin what happened in words, never "Activity task failed"', () => {
    const cases = [FailureType.TokenRefused, FailureType.GraphRefused, FailureType.GraphThrottled, FailureType.EntraUnavailable].map((type) => describeFailure({ type, message: 'Activity task failed', detail: 'AADSTS700016' }));
    expect(cases[0]).toBe("Microsoft refused Hook's sign-in for your tenant (AADSTS700016). Reconnect with an identity admin.");
    expect(cases[1]).toMatch(/^Microsoft Graph refused to let Hook read your groups/);
    expect(cases[2]).toMatch(/could not reach Microsoft Entra/);
    for (const text of cases) expect(text).not.toContain('Activity task failed');
  });
});

import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { FailureType } from '../failures.js';

/** Onboarding: one run per Connect click (later also per "Manage groups"). */
export const onboardingWorkflowId = (orgId: string, attemptId: string) => `onboarding-${orgId}-${attemptId}`;

export interface OnboardingInput {
  orgId: string;
  /** The Hook account that clicked Connect, for the audit trail. */
  accountId: string;
  /** How long to wait for Microsoft's redirect before giving up (default 30 minutes). */
  consentTimeoutMs?: number;
}

export interface VerifiedTenant {
  tenantId: string;
  displayName: string;
  verifiedDomains: Array<{ name: string; isDefault: boolean; isInitial: boolean }>;
}

export type OnboardingStage = 'awaiting_consent' | 'verifying' | 'connected' | 'failed';

export interface OnboardingFailure {
  type: FailureType;
  message: string;
  /** Microsoft's error description, or the AADSTS code, when there is one. */
  detail?: string;
}

export interface OnboardingStatus {
  stage: OnboardingStage;
  tenantId?: string;
  tenantName?: string;
  connectionId?: string;
  failure?: OnboardingFailure;
}

/** Microsoft's answer on the redirect: the tenant that consented, or the error it sent. */
export type ConsentAnswer = { tenantId: string } | { error: string; description: string };

// A signal: the consent callback fires and forgets; the browser is redirected either way.
// One signal for both answers keeps them in arrival order (the first one counts).
export const consentAnsweredSignal = defineSignal<[ConsentAnswer]>('consentAnswered');

// Query: the Integrations page polls this small snapshot while verification runs.
export const onboardingStatusQuery = defineQuery<OnboardingStatus>('onboardingStatus');

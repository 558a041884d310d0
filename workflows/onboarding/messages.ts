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

// Signals: the consent callback fires and forgets; the browser is redirected either way.
export const consentGrantedSignal = defineSignal<[{ tenantId: string }]>('consentGranted');
export const consentFailedSignal = defineSignal<[{ error: string; description: string }]>('consentFailed');

// Query: the Integrations page polls this small snapshot while verification runs.
export const onboardingStatusQuery = defineQuery<OnboardingStatus>('onboardingStatus');

import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { FailureType } from '../failures.js';

/** The workflow's type name, as clients start it (the exported function's name). */
export const ONBOARDING_WORKFLOW = 'onboardingWorkflow';

/** Onboarding: one run per Connect click (later also per "Manage groups"). */
export const onboardingWorkflowId = (orgId: string, attemptId: string) => `onboarding-${orgId}-${attemptId}`;

export interface OnboardingInput {
  orgId: string;
  /** The Hook account that clicked Connect, for the audit trail. */
  accountId: string;
  /** How long the admin has for Microsoft's sign-in and consent together (default 30 minutes). */
  consentTimeoutMs?: number;
}

export interface VerifiedTenant {
  tenantId: string;
  displayName: string;
  verifiedDomains: Array<{ name: string; isDefault: boolean; isInitial: boolean }>;
}

/** Who Microsoft said signed in at Connect: an administrator of this tenant (from a validated id_token). */
export interface ProvenAdmin {
  tenantId: string;
  userId: string;
  username: string;
  /** The roles held that can grant tenant-wide consent, by name. */
  roles: string[];
}

export type OnboardingStage = 'signing_in' | 'awaiting_consent' | 'verifying' | 'connected' | 'failed';

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

/** The sign-in's outcome: the proven tenant, or why nothing will be connected. */
export type SignInResult = { ok: true; tenantId: string } | { ok: false; failure: OnboardingFailure };

// A signal: the consent callback fires and forgets; the browser is redirected either way.
// One signal for both answers keeps them in arrival order (the first one counts).
export const consentAnsweredSignal = defineSignal<[ConsentAnswer]>('consentAnswered');

// An update: the sign-in callback must know the proven tenant before it can send the browser
// to that tenant's admin consent. It names the sign-in request (the hash of its state): the code,
// nonce and PKCE verifier stay in PostgreSQL, out of the workflow's history.
export const signedInUpdate = defineUpdate<SignInResult, [SignInAnswer]>('signedIn');

/** The sign-in callback's news: a code is waiting (under this state), or Microsoft's error. */
export type SignInAnswer = { stateHash: string } | { error: string; description: string };

// Query: the Integrations page polls this small snapshot while verification runs.
export const onboardingStatusQuery = defineQuery<OnboardingStatus>('onboardingStatus');

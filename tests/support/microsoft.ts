import { randomBytes } from 'node:crypto';
import { CryptoProvider } from '@azure/msal-node';
import type { WorkflowHandle } from '@temporalio/client';
import { expect } from 'vitest';
import type { Db } from '../../db/client.js';
import { createSignInRequest, holdAuthorizationCode } from '../../db/repositories/consent-requests.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { SIGN_IN_SCOPES, signInUrl, withoutSecret } from '../../lib/entra-settings.js';
import { hashToken } from '../../web/session.js';
import { signedInUpdate } from '../../workflows/onboarding/messages.js';
import type { onboardingWorkflow } from '../../workflows/onboarding/workflow.js';
import { entraFor, type Browser } from './app.js';
import { REDIRECT_URI } from './emulator.js';

/**
 * The browser's side at Microsoft (the emulator's plain-http pages): its own cookie jar, the
 * sign-in page's form and the consent page's form, posted as a person's clicks would post them.
 */
export class MicrosoftSide {
  private cookie = '';

  /** Submits a page's form at `url` (its query becomes the form's hidden fields) with these choices. */
  async submit(url: string, choices: Record<string, string>): Promise<URL> {
    const target = new URL(url);
    const page = await fetch(target, { headers: this.headers() });
    expect(page.status).toBe(200);
    const answer = await fetch(`${target.origin}${target.pathname}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...this.headers(), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...Object.fromEntries(target.searchParams), ...choices }).toString(),
    });
    const set = answer.headers.getSetCookie().find((cookie) => cookie.startsWith('emulator_estsauth='));
    if (set) this.cookie = set.split(';')[0]!;
    const location = answer.headers.get('location');
    if (!location) throw new Error(`Microsoft's page answered ${answer.status} without a redirect: ${(await answer.text()).slice(0, 300)}`);
    return new URL(location);
  }

  /** "Pick an account" with this UPN (or Cancel). */
  signIn(authorizeUrl: string, login: string, decision: 'sign_in' | 'cancel' = 'sign_in'): Promise<URL> {
    return this.submit(authorizeUrl, { login, decision });
  }

  /** The consent page's Accept or Cancel (its single tenant is chosen for the signed-in account). */
  consent(consentUrl: string, tenantId: string, decision: 'accept' | 'cancel' = 'accept'): Promise<URL> {
    return this.submit(consentUrl, { tenant_choice: tenantId, decision });
  }

  private headers(): Record<string, string> {
    return this.cookie === '' ? {} : { Cookie: this.cookie };
  }
}

export const relative = (url: URL) => `${url.pathname}${url.search}`;

/**
 * Connect walked end to end over HTTP: Connect → Microsoft's sign-in as `login` → callback →
 * the tenant's admin consent → callback. Returns each step's answer for the test to check.
 */
export async function connectOverHttp(browser: Browser, tenantId: string, login: string, decision: 'accept' | 'cancel' = 'accept') {
  const microsoft = new MicrosoftSide();
  const connect = await browser.post('/org/settings/integrations/microsoft-entra/connect');
  expect(connect.status).toBe(303);
  const signInCallback = await microsoft.signIn(connect.location!, login);
  const afterSignIn = await browser.request(relative(signInCallback));
  if (afterSignIn.status !== 303 || !afterSignIn.location?.includes('/adminconsent')) return { connect, signInCallback, afterSignIn };
  const consentCallback = await microsoft.consent(afterSignIn.location, tenantId, decision);
  const afterConsent = await browser.request(relative(consentCallback));
  return { connect, signInCallback, afterSignIn, consentCallback, afterConsent };
}

/**
 * For workflow tests: signs in at the emulator as `login`, files the sign-in request as the web
 * does (optionally spoiling its nonce or verifier) and tells the onboarding run.
 */
export async function signInForRun(options: {
  db: Db;
  emulator: RunningEmulator;
  orgId: string;
  workflowId: string;
  handle: WorkflowHandle<typeof onboardingWorkflow>;
  login: string;
  spoil?: { nonce?: string; verifier?: string };
}) {
  const state = randomBytes(32).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
  const url = signInUrl(withoutSecret(entraFor(options.emulator)), { redirectUri: REDIRECT_URI, state, nonce, codeChallenge: challenge, scopes: SIGN_IN_SCOPES });
  const back = await new MicrosoftSide().signIn(url, options.login);
  const code = back.searchParams.get('code');
  const stateHash = hashToken(state);
  await createSignInRequest(options.db, {
    stateHash,
    sessionHash: 'test-session',
    orgId: options.orgId,
    workflowId: options.workflowId,
    ttlMs: 60_000,
    redirectUri: REDIRECT_URI,
    nonce: options.spoil?.nonce ?? nonce,
    codeVerifier: options.spoil?.verifier ?? verifier,
  });
  if (code) await holdAuthorizationCode(options.db, stateHash, code);
  return { result: await options.handle.executeUpdate(signedInUpdate, { args: [{ stateHash }] }), code, stateHash };
}

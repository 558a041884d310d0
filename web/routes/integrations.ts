import { randomBytes } from 'node:crypto';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { findConnection, listConnections } from '../../db/repositories/connections.js';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { CryptoProvider } from '@azure/msal-node';
import { consumeConsentRequest, createAdminConsentRequest, createSignInRequest, holdAuthorizationCode } from '../../db/repositories/consent-requests.js';
import { setCurrentOrg, setFlash, takeFlash } from '../../db/repositories/sessions.js';
import { adminConsentUrl, SIGN_IN_SCOPES, signInUrl } from '../../lib/entra-settings.js';
import { FailureType } from '../../workflows/failures.js';
import {
  consentAnsweredSignal,
  onboardingStatusQuery,
  signedInUpdate,
  onboardingWorkflowId,
  type OnboardingFailure,
} from '../../workflows/onboarding/messages.js';
import type { onboardingWorkflow } from '../../workflows/onboarding/workflow.js';
import type { AppDeps } from '../app.js';
import { seeOther } from '../responses.js';
import { hashToken, requireOrgAdmin, requireSignedIn } from '../session.js';
import { workspace } from './workspace.js';
import { CALLBACK_PATH, INTEGRATIONS } from '../paths.js';
import type { Views } from '../views.js';

/** How long the admin has on Microsoft's consent screen; the state and the workflow both give up then. */
export const CONSENT_WINDOW_MS = 30 * 60 * 1000;

// The seed's advice when consent fails.
const CONSENT_HINT =
  "The most common cause is clicking Connect with an account that can't grant tenant-wide consent. Pull in your identity admin and try again.";

// MSAL's PKCE generator: a 32-byte verifier and its S256 challenge.
const pkce = new CryptoProvider();

const callbackQuery = z.object({
  state: z.string().min(20).max(200),
  code: z.string().min(1).max(8000).optional(),
  session_state: z.string().max(200).optional(),
  admin_consent: z.string().max(10).optional(),
  tenant: z.uuid().optional(),
  scope: z.string().max(2000).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(4000).optional(),
  error_uri: z.string().max(2000).optional(),
});

export function integrationsRoutes(deps: AppDeps & { views: Views }): Router {
  const { db, temporal, views, config, entra } = deps;
  const router = Router();
  const deny = (res: Response, status: 403 | 404, message: string) =>
    res.status(status).send(views.render('error', { ...res.locals, title: status === 403 ? 'Admins only' : 'Not found', message }));
  const admin = [requireSignedIn, requireOrgAdmin(db, deny)];
  const redirectUri = `${config.PUBLIC_URL}${CALLBACK_PATH}`;
  const panes = workspace(deps);

  const pageData = async (res: Response, extra: Record<string, unknown> = {}) => {
    const org = res.locals.org!;
    const connections = await listConnections(db, org.id);
    return { ...res.locals, title: 'Integrations', section: 'integrations', connections, entra, ...extra };
  };

  router.get(INTEGRATIONS, ...admin, async (req, res) => {
    const flash = await takeFlash(db, res.locals.session!.idHash);
    const onboarding = typeof req.query.onboarding === 'string' && ownsWorkflow(res, req.query.onboarding) ? req.query.onboarding : undefined;
    const expand = typeof req.query.expand === 'string' && z.uuid().safeParse(req.query.expand).success ? req.query.expand : undefined;
    const expanded = expand === undefined ? undefined : await findConnection(db, res.locals.org!.id, expand);
    const pane = expanded ? await panes.pane(expanded) : undefined;
    res.send(views.render('integrations', await pageData(res, { flash, onboarding, expand, pane })));
  });

  router.post(`${INTEGRATIONS}/microsoft-entra/connect`, ...admin, async (req, res) => {
    const org = res.locals.org!;
    const workflowId = onboardingWorkflowId(org.id, randomBytes(8).toString('hex'));
    await temporal.workflow.start<typeof onboardingWorkflow>('onboardingWorkflow', {
      workflowId,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ orgId: org.id, accountId: res.locals.session!.accountId, consentTimeoutMs: CONSENT_WINDOW_MS }],
      // A run that nobody finishes must not live for ever.
      workflowExecutionTimeout: '1 day',
    });
    // First the admin signs in at Microsoft: the id_token will prove the tenant and the role.
    const state = randomBytes(32).toString('base64url');
    const nonce = randomBytes(32).toString('base64url');
    const { verifier, challenge } = await pkce.generatePkceCodes();
    await createSignInRequest(db, {
      stateHash: hashToken(state),
      sessionHash: res.locals.session!.idHash,
      orgId: org.id,
      workflowId,
      ttlMs: CONSENT_WINDOW_MS,
      redirectUri,
      nonce,
      codeVerifier: verifier,
    });
    seeOther(req, res, signInUrl(entra, { redirectUri, state, nonce, codeChallenge: challenge, scopes: SIGN_IN_SCOPES }));
  });

  // Microsoft comes back here twice: after the sign-in (a code) and after the admin consent.
  router.get(CALLBACK_PATH, requireSignedIn, async (req, res) => {
    const parsed = callbackQuery.safeParse(req.query);
    const session = res.locals.session!;
    const stateHash = parsed.success ? hashToken(parsed.data.state) : '';
    const request = parsed.success ? await consumeConsentRequest(db, stateHash, session.idHash) : undefined;
    if (!parsed.success || !request) {
      res.status(400).send(
        views.render('error', {
          ...res.locals,
          title: 'This link has expired',
          message: 'This answer from Microsoft does not match a Connect you started in this browser, or it was already used. Start again from Settings → Integrations.',
        }),
      );
      return;
    }
    const answer = parsed.data;
    await setCurrentOrg(db, session.idHash, request.org_id);
    const handle = temporal.workflow.getHandle<typeof onboardingWorkflow>(request.workflow_id);
    const notConnected = async (explanation: { message: string; hint?: string }) => {
      await setFlash(db, session.idHash, { kind: 'error', title: 'Microsoft Entra was not connected', ...explanation });
      res.redirect(303, INTEGRATIONS);
    };
    const microsoftError = answer.error === undefined ? undefined : { error: answer.error, description: answer.error_description ?? answer.error };
    try {
      if (request.phase === 'sign_in') {
        if (microsoftError || answer.code === undefined) {
          const refused = microsoftError ?? { error: 'invalid_response', description: 'Microsoft sent no sign-in code and no error.' };
          await handle.executeUpdate(signedInUpdate, { args: [refused] });
          return notConnected({ message: firstLine(refused.description), hint: CONSENT_HINT });
        }
        await holdAuthorizationCode(db, stateHash, answer.code);
        const result = await handle.executeUpdate(signedInUpdate, { args: [{ stateHash }] });
        if (!result.ok) return notConnected(explain(result.failure));
        // Proven: now the admin consent, for that tenant and no other.
        const state = randomBytes(32).toString('base64url');
        await createAdminConsentRequest(db, {
          stateHash: hashToken(state),
          sessionHash: session.idHash,
          orgId: request.org_id,
          workflowId: request.workflow_id,
          ttlMs: CONSENT_WINDOW_MS,
          provenTenantId: result.tenantId,
        });
        return seeOther(req, res, adminConsentUrl(entra, result.tenantId, redirectUri, state));
      }
      if (microsoftError === undefined && answer.admin_consent?.toLowerCase() === 'true' && answer.tenant !== undefined) {
        // The workflow compares the tenant with the proven one too; a mismatch ends the run.
        await handle.signal(consentAnsweredSignal, { tenantId: answer.tenant });
        if (answer.tenant.toLowerCase() !== request.proven_tenant_id) return notConnected(explain({ type: FailureType.TenantMismatch, message: '' }));
        return res.redirect(303, `${INTEGRATIONS}?onboarding=${encodeURIComponent(request.workflow_id)}`);
      }
      const refused = microsoftError ?? { error: 'invalid_response', description: 'Microsoft sent no tenant and no error.' };
      await handle.signal(consentAnsweredSignal, refused);
      return notConnected({ message: firstLine(refused.description), hint: CONSENT_HINT });
    } catch (error) {
      // The run this answer belongs to has ended (it timed out, or another tab answered it).
      if (!(error instanceof WorkflowNotFoundError) && !(error instanceof WorkflowUpdateFailedError)) throw error;
      req.log.warn({ workflowId: request.workflow_id, err: error }, 'consent answer for an onboarding run that has ended');
      return notConnected({ message: 'This Connect had already ended (it waited too long, or was answered in another tab).', hint: 'Click Connect to start again.' });
    }
  });

  // Polled by the page while the onboarding workflow verifies the tenant.
  router.get(`${INTEGRATIONS}/onboarding/:workflowId/status`, ...admin, async (req, res) => {
    const workflowId = String(req.params.workflowId);
    if (!ownsWorkflow(res, workflowId)) return deny(res, 404, 'There is nothing at this address.');
    const status = await temporal.workflow.getHandle(workflowId).query(onboardingStatusQuery);
    if (status.stage === 'connected' || status.stage === 'failed') {
      const session = res.locals.session!;
      if (status.stage === 'connected') {
        await setFlash(db, session.idHash, { kind: 'success', title: `Connected to ${status.tenantName ?? 'Microsoft Entra'}` });
      } else {
        await setFlash(db, session.idHash, { kind: 'error', title: 'Microsoft Entra was not connected', ...explain(status.failure!) });
      }
      const target = status.stage === 'connected' ? `${INTEGRATIONS}?expand=${status.connectionId}` : INTEGRATIONS;
      seeOther(req, res, target);
      return;
    }
    res.send(views.render('partials/onboarding-status', { ...res.locals, workflowId, status }));
  });

  return router;
}

/** Workflow ids embed the org (onboarding-{orgId}-…): another org's run is never found. */
function ownsWorkflow(res: Response, workflowId: string): boolean {
  return workflowId.startsWith(onboardingWorkflowId(res.locals.org!.id, '')) && /^[\w-]{1,200}$/.test(workflowId);
}

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0]!.slice(0, 500);
}

function explain(failure: OnboardingFailure): { message: string; hint?: string } {
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

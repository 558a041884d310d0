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
  ONBOARDING_WORKFLOW,
} from '../../workflows/onboarding/messages.js';
import type { onboardingWorkflow } from '../../workflows/onboarding/workflow.js';
import { seeOther } from '../responses.js';
import { hashToken, requireSignedIn } from '../session.js';
import { CALLBACK_PATH, CONNECT, INTEGRATIONS, ONBOARDING_STATUS, paths } from '../paths.js';
import { CONSENT_HINT, explain, firstLine } from '../services/consent-messages.js';
import { paneQuery } from '../services/pane.js';
import type { RouteDeps } from './deps.js';

/** How long the admin has on Microsoft's consent screen; the state and the workflow both give up then. */
export const CONSENT_WINDOW_MS = 30 * 60 * 1000;

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

export function integrationsRoutes({ db, temporal, views, config, entra, access, panes }: RouteDeps): Router {
  const router = Router();
  const { admin, deny } = access;
  const redirectUri = `${config.PUBLIC_URL}${CALLBACK_PATH}`;

  // The page, with one connection's pane open when `expand` names it (and, without JavaScript,
  // the pane's tab, All users search and page from the query).
  router.get(INTEGRATIONS, ...admin, async (req, res) => {
    const org = res.locals.org!;
    const flash = await takeFlash(db, res.locals.session!.idHash);
    const onboarding = typeof req.query.onboarding === 'string' && ownsWorkflow(res, req.query.onboarding) ? req.query.onboarding : undefined;
    const expand = typeof req.query.expand === 'string' && z.uuid().safeParse(req.query.expand).success ? req.query.expand : undefined;
    const expanded = expand === undefined ? undefined : await findConnection(db, org.id, expand);
    const query = paneQuery.safeParse(req.query);
    const pane = expanded ? await panes.pane(expanded, query.success ? query.data : {}) : undefined;
    const connections = await listConnections(db, org.id);
    res.send(views.render('integrations', { ...res.locals, title: 'Integrations', section: 'integrations', connections, entra, flash, onboarding, expand, pane }));
  });

  router.post(CONNECT, ...admin, async (req, res) => {
    const org = res.locals.org!;
    const workflowId = onboardingWorkflowId(org.id, randomBytes(8).toString('hex'));
    await temporal.workflow.start<typeof onboardingWorkflow>(ONBOARDING_WORKFLOW, {
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
      res.redirect(303, paths.integrations);
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
        return res.redirect(303, paths.onboarding(request.workflow_id));
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
  router.get(ONBOARDING_STATUS, ...admin, async (req, res) => {
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
      const target = status.stage === 'connected' ? paths.pane(status.connectionId!) : paths.integrations;
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

import { randomBytes } from 'node:crypto';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { findConnection, listConnections } from '../../db/repositories/connections.js';
import { consumeConsentRequest, createConsentRequest } from '../../db/repositories/consent-requests.js';
import { setCurrentOrg, setFlash, takeFlash } from '../../db/repositories/sessions.js';
import { adminConsentUrl } from '../../lib/entra-settings.js';
import { FailureType } from '../../workflows/failures.js';
import {
  consentAnsweredSignal,
  onboardingStatusQuery,
  onboardingWorkflowId,
  type OnboardingFailure,
} from '../../workflows/onboarding/messages.js';
import type { onboardingWorkflow } from '../../workflows/onboarding/workflow.js';
import type { AppDeps } from '../app.js';
import { hashToken, requireOrgAdmin, requireSignedIn } from '../session.js';
import { workspace } from './workspace.js';
import { CALLBACK_PATH, INTEGRATIONS } from '../paths.js';
import type { Views } from '../views.js';

/** How long the admin has on Microsoft's consent screen; the state and the workflow both give up then. */
export const CONSENT_WINDOW_MS = 30 * 60 * 1000;

// The seed's advice when consent fails.
const CONSENT_HINT =
  "The most common cause is clicking Connect with an account that can't grant tenant-wide consent. Pull in your identity admin and try again.";

const callbackQuery = z.object({
  state: z.string().min(20).max(200),
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
    const state = randomBytes(32).toString('base64url');
    await createConsentRequest(db, { stateHash: hashToken(state), sessionHash: res.locals.session!.idHash, orgId: org.id, workflowId, ttlMs: CONSENT_WINDOW_MS });
    const url = adminConsentUrl(entra, redirectUri, state);
    if (req.get('HX-Request')) res.set('HX-Redirect', url).status(204).end();
    else res.redirect(303, url);
  });

  router.get(CALLBACK_PATH, requireSignedIn, async (req, res) => {
    const parsed = callbackQuery.safeParse(req.query);
    const session = res.locals.session!;
    const request = parsed.success ? await consumeConsentRequest(db, hashToken(parsed.data.state), session.idHash) : undefined;
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
    const handle = temporal.workflow.getHandle(request.workflow_id);
    if (answer.error === undefined && answer.admin_consent?.toLowerCase() === 'true' && answer.tenant !== undefined) {
      await handle.signal(consentAnsweredSignal, { tenantId: answer.tenant });
      res.redirect(303, `${INTEGRATIONS}?onboarding=${encodeURIComponent(request.workflow_id)}`);
      return;
    }
    const error = answer.error ?? 'invalid_response';
    const description = answer.error_description ?? 'Microsoft sent no tenant and no error.';
    await handle.signal(consentAnsweredSignal, { error, description });
    await setFlash(db, session.idHash, { kind: 'error', title: 'Microsoft Entra was not connected', message: firstLine(description), hint: CONSENT_HINT });
    res.redirect(303, INTEGRATIONS);
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
      if (req.get('HX-Request')) res.set('HX-Redirect', target).status(204).end();
      else res.redirect(303, target);
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

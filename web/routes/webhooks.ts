import { Router, type Response } from 'express';
import { z } from 'zod';
import { setFlash, takeFlash } from '../../db/repositories/sessions.js';
import { createWebhookEndpoint, deleteWebhookEndpoint, listWebhookEndpoints, rollWebhookSecret, setWebhookPaused, WEBHOOK_SECRETS } from '../../db/repositories/webhooks.js';
import { secretBox } from '../../lib/secret-box.js';
import { wakeDelivery } from '../../lib/webhook-launcher.js';
import { webhookUrlProblem } from '../../lib/webhooks.js';
import { EVENT_RETENTION_DAYS, EVENT_TYPES } from '../api/schemas.js';
import { paths, WEBHOOKS } from '../paths.js';
import type { RouteDeps } from './deps.js';

const createForm = z.object({
  url: z.string().trim().min(1, 'Enter the URL Hook should send events to.').max(2_000, 'The URL is longer than 2,000 characters.'),
  // Checkboxes: none checked means every type.
  types: z.union([z.enum(EVENT_TYPES), z.array(z.enum(EVENT_TYPES))], { error: 'Choose event types from the list.' }).optional(),
});

const ROLLED_MEANWHILE = "This webhook's signing secret changed after this page was shown (another tab or another admin rolled it). Nothing was changed: roll it again from this page if you still want a new one.";

/**
 * Settings → Webhooks: an org admin registers endpoints for the change events (the signing secret
 * shown once), chooses their types, pauses, resumes and deletes them, rolls their secrets, and
 * sees each one's last delivery. Endpoints are the org's: another org's id is a 404 like any
 * unknown one.
 */
export function webhooksRoutes({ db, views, access, config, temporal }: RouteDeps): Router {
  const router = Router();
  const allowPrivate = config.WEBHOOK_ALLOW_PRIVATE_TARGETS;
  if (config.DATA_ENCRYPTION_KEY === undefined) throw new Error('createApp needs config.DATA_ENCRYPTION_KEY');
  const secrets = secretBox(config.DATA_ENCRYPTION_KEY, WEBHOOK_SECRETS);
  const page = async (res: Response, extra: Record<string, unknown> = {}) => {
    const endpoints = await listWebhookEndpoints(db, res.locals.org!.id);
    res.send(views.render('webhooks', { ...res.locals, title: 'Webhooks', section: 'webhooks', endpoints, eventTypes: EVENT_TYPES, retentionDays: EVENT_RETENTION_DAYS, ...extra }));
  };

  router.get(WEBHOOKS, ...access.admin, async (_req, res) => {
    await page(res, { flash: await takeFlash(db, res.locals.session!.idHash) });
  });

  router.post(WEBHOOKS, ...access.admin, async (req, res) => {
    const form = createForm.safeParse(req.body);
    const given = req.body as Record<string, unknown>;
    const problem = form.success ? webhookUrlProblem(form.data.url, { allowPrivate }) : form.error.issues[0]!.message;
    if (!form.success || problem) {
      res.status(422);
      return page(res, { error: problem, url: typeof given.url === 'string' ? given.url.slice(0, 2_000) : '' });
    }
    const types = form.data.types === undefined ? [] : [form.data.types].flat();
    const created = await createWebhookEndpoint(db, { orgId: res.locals.org!.id, url: form.data.url, eventTypes: types.length === EVENT_TYPES.length ? [] : types, createdBy: res.locals.session!.accountId }, secrets);
    await wakeDelivery(temporal, config.TEMPORAL_TASK_QUEUE, created.id);
    // The secret is in this one answer only.
    res.setHeader('Cache-Control', 'no-store');
    await page(res, { created: { url: form.data.url, secret: created.secret } });
  });

  const change = (action: 'pause' | 'resume' | 'delete', done: string) =>
    router.post(`${WEBHOOKS}/:endpointId/${action}`, ...access.admin, async (req, res) => {
      const id = z.uuid().safeParse(req.params.endpointId);
      const orgId = res.locals.org!.id;
      const changed = id.success && (action === 'delete' ? await deleteWebhookEndpoint(db, orgId, id.data) : await setWebhookPaused(db, orgId, id.data, action === 'pause'));
      if (!changed) return access.deny(res, 404, 'There is nothing at this address.');
      await wakeDelivery(temporal, config.TEMPORAL_TASK_QUEUE, id.data);
      await setFlash(db, res.locals.session!.idHash, { kind: 'success', title: done });
      res.redirect(303, paths.webhooks);
    });
  // A new signing secret, bound to the one the admin's page showed (`seen`): rolled twice from
  // two tabs, the second is refused rather than silently replacing a secret its admin never saw.
  router.post(`${WEBHOOKS}/:endpointId/roll-secret`, ...access.admin, async (req, res) => {
    const id = z.uuid().safeParse(req.params.endpointId);
    // A malformed version matches no secret: it is refused as out of date, after the endpoint is
    // found to be the org's (another org's id is a 404 whatever else the form says).
    const seen = z.object({ seen: z.string().regex(/^[0-9a-f]{16}$/) }).safeParse(req.body);
    const orgId = res.locals.org!.id;
    const outcome = id.success ? await rollWebhookSecret(db, { orgId, id: id.data, seenVersion: seen.success ? seen.data.seen : '' }, secrets) : 'missing';
    if (outcome === 'missing') return access.deny(res, 404, 'There is nothing at this address.');
    if (outcome === 'changed') {
      res.status(409);
      return page(res, { flash: { kind: 'error', title: ROLLED_MEANWHILE } });
    }
    res.setHeader('Cache-Control', 'no-store');
    await page(res, { rolled: outcome.rolled });
  });

  change('pause', 'Webhook paused: events wait, in order, until you resume it.');
  change('resume', 'Webhook resumed: waiting events are on their way.');
  change('delete', 'Webhook deleted.');
  return router;
}

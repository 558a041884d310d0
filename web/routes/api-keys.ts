import { Router } from 'express';
import { z } from 'zod';
import { createApiKey, listApiKeys, revokeApiKey } from '../../db/repositories/api-keys.js';
import { setFlash, takeFlash } from '../../db/repositories/sessions.js';
import { API_KEYS, paths } from '../paths.js';
import type { RouteDeps } from './deps.js';

const createForm = z.object({
  name: z
    .string()
    .trim()
    .min(1, 'Give the key a name, such as the service that will use it.')
    .max(100, 'Key names are at most 100 characters.')
    .regex(/^[^\p{Cc}]*$/u, 'Key names cannot contain control characters.'),
});

/**
 * Settings → API keys: an org admin creates keys for the directory API (shown once, stored
 * hashed) and revokes them; each key's last use is shown. Keys are the org's: another org's key
 * id is a 404 like any unknown one.
 */
export function apiKeysRoutes({ db, views, access, config }: RouteDeps): Router {
  const router = Router();
  const page = async (res: Parameters<Parameters<Router['get']>[1]>[1], extra: Record<string, unknown> = {}) => {
    const keys = await listApiKeys(db, res.locals.org!.id);
    res.send(views.render('api-keys', { ...res.locals, title: 'API keys', section: 'api-keys', keys, apiBase: `${config.PUBLIC_URL}/api/v1`, ...extra }));
  };

  router.get(API_KEYS, ...access.admin, async (_req, res) => {
    await page(res, { flash: await takeFlash(db, res.locals.session!.idHash) });
  });

  router.post(API_KEYS, ...access.admin, async (req, res) => {
    const form = createForm.safeParse(req.body);
    if (!form.success) {
      res.status(400);
      const given: unknown = (req.body as Record<string, unknown>).name;
      return page(res, { error: form.error.issues[0]!.message, name: typeof given === 'string' ? given.slice(0, 100) : '' });
    }
    const created = await createApiKey(db, { orgId: res.locals.org!.id, name: form.data.name, createdBy: res.locals.session!.accountId });
    // The key is in this one answer only: no redirect could carry it without storing it.
    res.setHeader('Cache-Control', 'no-store');
    await page(res, { created: { name: form.data.name, key: created.key } });
  });

  router.post(`${API_KEYS}/:keyId/revoke`, ...access.admin, async (req, res) => {
    const keyId = z.uuid().safeParse(req.params.keyId);
    if (!keyId.success || !(await revokeApiKey(db, res.locals.org!.id, keyId.data))) return access.deny(res, 404, 'There is nothing at this address.');
    await setFlash(db, res.locals.session!.idHash, { kind: 'success', title: 'API key revoked.', message: 'Requests with it are refused from now on.' });
    res.redirect(303, paths.apiKeys);
  });
  return router;
}

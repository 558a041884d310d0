import { Router } from 'express';
import { z } from 'zod';
import { membershipsOf } from '../../db/repositories/accounts.js';
import { setCurrentOrg } from '../../db/repositories/sessions.js';
import type { AppDeps } from '../app.js';
import { requireSignedIn, safeNext } from '../session.js';
import type { Views } from '../views.js';

const switchForm = z.object({ org: z.string().min(1).max(100), next: z.string().max(2000).optional() });

export function homeRoutes({ db, views }: Pick<AppDeps, 'config' | 'db'> & { views: Views }): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    if (res.locals.session) return res.redirect(303, '/org/settings/integrations');
    res.send(views.render('home', { ...res.locals, title: 'Home' }));
  });

  // The org switcher: a POST (CSRF-checked), so no link, prefetch or cross-site page can move
  // the org that the next action lands in.
  router.post('/org/switch', requireSignedIn, async (req, res) => {
    const parsed = switchForm.safeParse(req.body);
    const session = res.locals.session!;
    const org = parsed.success ? (await membershipsOf(db, session.accountId)).find((candidate) => candidate.slug === parsed.data.org) : undefined;
    if (!parsed.success || !org) {
      res.status(404).send(views.render('error', { ...res.locals, title: 'Not found', message: 'There is nothing at this address.' }));
      return;
    }
    await setCurrentOrg(db, session.idHash, org.id);
    res.redirect(303, safeNext(parsed.data.next));
  });
  return router;
}

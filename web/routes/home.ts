import { Router } from 'express';
import type { AppDeps } from '../app.js';
import type { Views } from '../views.js';

export function homeRoutes({ views }: Pick<AppDeps, 'config'> & { views: Views }): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    if (res.locals.session) return res.redirect(303, '/org/settings/integrations');
    res.send(views.render('home', { ...res.locals, title: 'Home' }));
  });
  return router;
}

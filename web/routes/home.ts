import { Router } from 'express';
import type { AppDeps } from '../app.js';
import type { Views } from '../views.js';

export function homeRoutes({ views }: Pick<AppDeps, 'config'> & { views: Views }): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res.send(views.render('home', { title: 'Home' }));
  });
  return router;
}

import { Router, type Request } from 'express';
import { z } from 'zod';
import { groupHistory, userHistory } from '../../db/repositories/history.js';
import { CONNECTION, paths } from '../paths.js';
import { historyLines } from '../services/history.js';
import type { RouteDeps } from './deps.js';

const older = z.object({ before: z.string().regex(/^\d{1,19}$/).optional() });

/**
 * What happened to the synced directory, for an admin: a user's and a group's history (from the
 * directory's events) and the Sync runs tab. Each reads only the current org's connection, and
 * only its users and groups.
 */
export function historyRoutes({ db, views, access, panes }: RouteDeps): Router {
  const router = Router();
  const { admin, connectionOf, deny } = access;
  const before = (req: Request) => {
    const parsed = older.safeParse(req.query);
    return parsed.success ? parsed.data.before : undefined;
  };

  router.get(`${CONNECTION}/runs`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    if (!req.get('HX-Request')) return res.redirect(303, paths.pane(connection.id, 'runs'));
    res.send(views.render('partials/sync-runs', { ...res.locals, connection, runs: await panes.runs(connection) }));
  });

  router.get(`${CONNECTION}/users/:userId/history`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    const userId = z.uuid().safeParse(req.params.userId);
    const found = userId.success ? await userHistory(db, connection.id, userId.data, before(req)) : undefined;
    if (!found) return deny(res, 404, 'There is nothing at this address.');
    const name = found.user.display_name ?? found.user.mail ?? found.user.user_principal_name ?? '(no name)';
    res.send(views.render('history', { ...res.locals, title: `${name} · history`, section: 'integrations', connection, about: 'user', subject: found.user, name, ...historyLines(found.events, 'user'), self: paths.userHistory(connection.id, found.user.id) }));
  });

  router.get(`${CONNECTION}/groups/:groupId/history`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    const groupId = z.uuid().safeParse(req.params.groupId);
    const found = groupId.success ? await groupHistory(db, connection.id, groupId.data, before(req)) : undefined;
    if (!found) return deny(res, 404, 'There is nothing at this address.');
    res.send(views.render('history', { ...res.locals, title: `${found.group.display_name} · history`, section: 'integrations', connection, about: 'group', subject: found.group, name: found.group.display_name, ...historyLines(found.events, 'group'), self: paths.groupHistory(connection.id, found.group.id) }));
  });

  return router;
}

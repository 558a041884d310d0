import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { connectionRow, type Connection } from '../../db/repositories/connections.js';
import { exportUsersCsv } from '../../db/repositories/export.js';
import { setFlash } from '../../db/repositories/sessions.js';
import { syncTargetOf } from '../../lib/sync-launcher.js';
import { confirmRemovalsUpdate, directorySyncWorkflowId } from '../../workflows/sync/messages.js';
import { CONNECTION, paths } from '../paths.js';
import { refusal, seeOther } from '../responses.js';
import { paneQuery } from '../services/pane.js';
import type { RouteDeps } from './deps.js';

const confirmForm = z.object({ runId: z.uuid(), digest: z.string().regex(/^[\w-]{43}$/) });

/** The workspace pane of one connection: its regions for htmx, and the actions on it. */
export function workspaceRoutes({ db, temporal, views, access, panes, launcher }: RouteDeps): Router {
  const router = Router();
  const { admin, connectionOf } = access;
  const isHtmx = (req: Request) => Boolean(req.get('HX-Request'));
  const back = (req: Request, res: Response, connectionId: string) => seeOther(req, res, paths.pane(connectionId));
  const flash = (res: Response, message: Parameters<typeof setFlash>[2]) => setFlash(db, res.locals.session!.idHash, message);
  /** Sync now and Disconnect on a disconnected connection: refused, and said so on the page. */
  const refuseDisconnected = async (req: Request, res: Response, connection: Connection, title: string, message?: string) => {
    await flash(res, { kind: 'error', title, ...(message ? { message } : {}) });
    back(req, res, connection.id);
  };

  router.get(`${CONNECTION}/pane`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    const query = paneQuery.safeParse(req.query);
    const options = query.success ? query.data : {};
    // Without htmx (a link opened in a new tab, no JavaScript) the pane is a page: the Integrations page with it open.
    if (!isHtmx(req)) return res.redirect(303, paths.pane(connection.id, options.tab));
    const pane = views.render('partials/workspace-pane', { ...res.locals, pane: await panes.pane(connection, options) });
    // The Synced directories row goes along out of band, so the row and the pane show one state.
    const row = await connectionRow(db, res.locals.org!.id, connection.id);
    res.send(row ? `${pane}<template>${views.render('partials/directory-row', { connection: row, expanded: true, oob: true })}</template>` : pane);
  });

  // The sync-status region polls alone while a sync runs (a search being typed in the pane is
  // left alone); when the sync ends it tells the pane to read itself again, once.
  router.get(`${CONNECTION}/sync-status`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    if (!isHtmx(req)) return res.redirect(303, paths.pane(connection.id));
    const tab = paneQuery.shape.tab.safeParse(req.query.tab);
    const pane = await panes.statusRegion(connection, (tab.success ? tab.data : undefined) ?? 'groups');
    const running = connection.sync_status === 'running' || pane.sync?.running === true;
    if (!running && req.query.polling === '1') res.set('HX-Trigger', 'directory-synced');
    res.send(views.render('partials/sync-status', { ...res.locals, pane }));
  });

  // The All users tab: search and keyset paging, as a partial for htmx or, without it, the page.
  router.get(`${CONNECTION}/users`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    const parsed = paneQuery.safeParse(req.query);
    if (!parsed.success) return res.status(422).send(views.render('partials/users-list', { ...res.locals, connection, page: [], more: false, query: '', error: 'Search for up to 100 characters of a name or email.' }));
    const { q, afterName, afterId } = parsed.data;
    if (!isHtmx(req)) return res.redirect(303, paths.pane(connection.id, 'users', { q, afterName, afterId }));
    res.send(views.render('partials/users-list', { ...res.locals, ...(await panes.usersList(connection, parsed.data)) }));
  });

  // Every user of the connection, streamed a page at a time: 100,000 rows never sit in memory.
  router.get(`${CONNECTION}/users.csv`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    const day = new Date().toISOString().slice(0, 10);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="hook-users-${day}.csv"`);
    res.setHeader('Cache-Control', 'no-store');
    await exportUsersCsv(db, connection.id, res);
    res.end();
  });

  router.post(`${CONNECTION}/sync-now`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    if (connection.status === 'disconnected') return refuseDisconnected(req, res, connection, `${connection.tenant_name} is disconnected`, 'Connect it again (Settings → Integrations → Connect) before syncing.');
    await launcher.syncNow(syncTargetOf(connection));
    await flash(res, { kind: 'success', title: `Sync started for ${connection.tenant_name}.` });
    back(req, res, connection.id);
  });

  // The admin confirms exactly the held set the pane showed: its run and digest travel with the form.
  router.post(`${CONNECTION}/confirm-removals`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    const form = confirmForm.safeParse(req.body);
    const refuse = async (message: string) => {
      await flash(res, { kind: 'error', title: 'Nobody was removed', message });
      back(req, res, connection.id);
    };
    if (!form.success) return refuse('This confirmation does not say which removals it confirms. Reload the page and look at them again.');
    try {
      const { count } = await temporal.workflow.getHandle(directorySyncWorkflowId(connection.id)).executeUpdate(confirmRemovalsUpdate, { args: [form.data] });
      await flash(res, { kind: 'success', title: `Removing ${count} users on the next sync.` });
      back(req, res, connection.id);
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) return refuse(refusal(error, 'No removals are waiting for confirmation any more.'));
      throw error;
    }
  });

  // Disconnect is the sync workflow's to do (an update that waits out a commit in flight, then
  // ends the workflow): the web process writes no directory data. No workflow yet: one is started for it.
  router.post(`${CONNECTION}/disconnect`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    if (connection.status === 'disconnected') return refuseDisconnected(req, res, connection, `${connection.tenant_name} is disconnected already.`);
    await launcher.disconnect(syncTargetOf(connection));
    await flash(res, { kind: 'success', title: `${connection.tenant_name} was disconnected and its users removed from Hook.` });
    back(req, res, connection.id);
  });

  return router;
}

import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { findConnection, type Connection } from '../../db/repositories/connections.js';
import { setFlash } from '../../db/repositories/sessions.js';
import { LARGE_SELECTION, MAX_SELECTION, requestPreviewUpdate, saveSelectionUpdate, searchGroupsUpdate, type PickerGroup } from '../../workflows/group-selection/messages.js';
import { GROUPS, paths, PREVIEW } from '../paths.js';
import { refusal, seeOther } from '../responses.js';
import { createSelectionService } from '../services/selection.js';
import type { RouteDeps } from './deps.js';

const previewForm = z.object({
  connection: z.uuid(),
  baseVersion: z.coerce.number().int().min(0),
  group: z.union([z.uuid(), z.array(z.uuid()).max(MAX_SELECTION)]).optional(),
});
const saveForm = z.object({ connection: z.uuid(), saveId: z.string().regex(/^[\w-]{8,64}$/), previewId: z.string().min(1).max(100), baseVersion: z.coerce.number().int().min(0) });
const searchParams = z.object({ connection: z.uuid(), q: z.string().trim().max(100) });

interface Search {
  query: string;
  groups: PickerGroup[];
  error?: string;
}

/** Manage groups: the picker, its search, the preview and Save, all through the connection's selection run. */
export function groupsRoutes({ db, temporal, views, config, access }: RouteDeps): Router {
  const router = Router();
  const { admin, deny } = access;
  const selection = createSelectionService({ db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, previewBudgetMs: config.PREVIEW_BUDGET_SECONDS * 1000 });
  const connectionOf = (res: Response, source: unknown) => access.connectionOf(res, (source as { connection?: unknown } | undefined)?.connection);
  const connectedOf = (res: Response, source: unknown) =>
    access.connectedOf(res, (source as { connection?: unknown } | undefined)?.connection, (connection) => `${connection.tenant_name} is disconnected. Connect it again before picking or saving groups.`);
  const saved = async (req: Request, res: Response, connectionId: string) => {
    await setFlash(db, res.locals.session!.idHash, { kind: 'success', title: 'Group selection saved.' });
    seeOther(req, res, paths.pane(connectionId));
  };

  /** The picker page; with no open run (it was saved, or never started), the pane, where Manage groups starts one. */
  async function renderPicker(res: Response, connection: Connection, { error, status = 200, search }: { error?: string; status?: number; search?: Search } = {}) {
    const handle = await selection.open(connection);
    if (!handle) return res.redirect(303, paths.pane(connection.id));
    const picker = await selection.picker(connection, await selection.status(handle));
    res.status(status).send(views.render('groups', { ...res.locals, title: 'Select groups to sync', section: 'integrations', connection, ...picker, largeSelection: LARGE_SELECTION, error, search }));
  }

  // Manage groups: starts the connection's selection run, or joins the one another admin has open.
  router.post(GROUPS, ...admin, async (req, res) => {
    const connection = await connectedOf(res, req.body);
    if (!connection) return;
    await selection.start(connection);
    res.redirect(303, paths.picker(connection.id));
  });

  router.get(GROUPS, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.query);
    if (connection) await renderPicker(res, connection);
  });

  // Search across the whole tenant (Graph $search) through the selection run: results for htmx,
  // or the picker page with them for a plain form.
  router.get(`${GROUPS}/search`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.query);
    if (!connection) return;
    const show = (search: Search, selected = new Set<string>(), status = 200) =>
      req.get('HX-Request') ? res.status(status).send(views.render('partials/search-results', { ...res.locals, ...search, selected })) : renderPicker(res, connection, { status, search });
    const parsed = searchParams.safeParse(req.query);
    if (!parsed.success) return show({ query: '', groups: [], error: 'Search for at most 100 characters of a group name.' }, undefined, 422);
    // A cleared search box: no results to show, and no error either.
    if (parsed.data.q === '') return req.get('HX-Request') ? res.send('') : renderPicker(res, connection);
    const query = parsed.data.q;
    const handle = await selection.open(connection);
    if (!handle) return show({ query, groups: [], error: 'This group selection has ended. Open Manage groups again to search.' }, undefined, 409);
    try {
      const groups = await handle.executeUpdate(searchGroupsUpdate, { args: [{ query }] });
      await show({ query, groups }, new Set((await selection.status(handle)).selection));
    } catch (error) {
      await show({ query, groups: [], error: refusal(error) }, undefined, 422);
    }
  });

  router.post(`${GROUPS}/preview`, ...admin, async (req, res) => {
    const connection = await connectedOf(res, req.body);
    if (!connection) return;
    const parsed = previewForm.safeParse(req.body);
    if (!parsed.success) return renderPicker(res, connection, { error: 'The selection could not be read. Check the groups and try again.', status: 422 });
    const groupIds = parsed.data.group === undefined ? [] : [parsed.data.group].flat();
    const handle = await selection.start(connection);
    try {
      await handle.executeUpdate(requestPreviewUpdate, { args: [{ groupIds, baseVersion: parsed.data.baseVersion }] });
    } catch (error) {
      return renderPicker(res, connection, { error: refusal(error), status: 422 });
    }
    res.redirect(303, paths.preview(connection.id));
  });

  router.get(PREVIEW, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.query);
    if (!connection) return;
    const handle = await selection.open(connection);
    if (!handle) return res.redirect(303, paths.pane(connection.id));
    const status = await selection.status(handle);
    if (!status.preview) return res.redirect(303, paths.picker(connection.id));
    res.send(views.render('preview', { ...res.locals, ...(await selection.preview(connection, status)), saveId: randomBytes(12).toString('base64url') }));
  });

  router.post(`${PREVIEW}/save`, ...admin, async (req, res) => {
    const connection = await connectedOf(res, req.body);
    if (!connection) return;
    const parsed = saveForm.safeParse(req.body);
    if (!parsed.success) return deny(res, 400, 'This save request could not be read. Go back to the preview and try again.');
    const handle = await selection.start(connection);
    try {
      // The update id makes a double submit (or a retried request) one save.
      const { saveId, previewId, baseVersion } = parsed.data;
      await handle.executeUpdate(saveSelectionUpdate, { args: [{ saveId, previewId, baseVersion }], updateId: `save-${saveId}` });
    } catch (error) {
      // A double submit whose first request finished the run: the save itself is done.
      const current = await findConnection(db, res.locals.org!.id, connection.id);
      if (current?.last_save_id === parsed.data.saveId) return saved(req, res, connection.id);
      const status = await selection.status(handle);
      if (!status.preview) return renderPicker(res, connection, { error: refusal(error), status: 409 });
      return res.status(409).send(views.render('preview', { ...res.locals, ...(await selection.preview(connection, status)), saveId: randomBytes(12).toString('base64url'), error: refusal(error) }));
    }
    await saved(req, res, connection.id);
  });

  return router;
}

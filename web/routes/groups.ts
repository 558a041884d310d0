import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { findConnection } from '../../db/repositories/connections.js';
import { groupNames, pickerGroups, previewSamples, saveImpact, savedGroupIds } from '../../db/repositories/selection.js';
import { setFlash } from '../../db/repositories/sessions.js';
import {
  LARGE_SELECTION,
  MAX_SELECTION,
  groupSelectionWorkflowId,
  requestPreviewUpdate,
  saveSelectionUpdate,
  searchGroupsUpdate,
  selectionStatusQuery,
  type SelectionStatus,
} from '../../workflows/group-selection/messages.js';
import type { groupSelectionWorkflow } from '../../workflows/group-selection/workflow.js';
import { describeFailure, FailureType } from '../../workflows/failures.js';
import type { AppDeps } from '../app.js';
import { refusal } from '../responses.js';
import { requireOrgAdmin, requireSignedIn } from '../session.js';
import type { Views } from '../views.js';
import { GROUPS, INTEGRATIONS, PREVIEW } from '../paths.js';


const connectionParam = z.object({ connection: z.uuid() });
const previewForm = z.object({
  connection: z.uuid(),
  baseVersion: z.coerce.number().int().min(0),
  group: z.union([z.uuid(), z.array(z.uuid()).max(MAX_SELECTION)]).optional(),
});
const saveForm = z.object({ connection: z.uuid(), saveId: z.string().regex(/^[\w-]{8,64}$/), previewId: z.string().min(1).max(100), baseVersion: z.coerce.number().int().min(0) });
const searchParams = z.object({ connection: z.uuid(), q: z.string().trim().max(100) });

export function groupsRoutes(deps: AppDeps & { views: Views }): Router {
  const { db, temporal, views, config } = deps;
  const router = Router();
  const deny = (res: Response, status: 400 | 403 | 404 | 409, message: string) =>
    res.status(status).send(views.render('error', { ...res.locals, title: status === 404 ? 'Not found' : 'Not allowed', message }));
  const admin = [requireSignedIn, requireOrgAdmin(db, (res, status, message) => deny(res, status, message))];

  /** The connection named in the request, if it is this org's: another org's is a 404. */
  async function connectionOf(req: Request, res: Response, source: unknown) {
    const parsed = connectionParam.safeParse(source);
    const connection = parsed.success ? await findConnection(db, res.locals.org!.id, parsed.data.connection) : undefined;
    if (!connection) deny(res, 404, 'There is nothing at this address.');
    return connection;
  }

  /** For actions that change the selection: a disconnected connection is refused (Connect brings it back). */
  async function connectedOf(req: Request, res: Response, source: unknown) {
    const connection = await connectionOf(req, res, source);
    if (connection?.status === 'disconnected') {
      deny(res, 409, `${connection.tenant_name} is disconnected. Connect it again before picking or saving groups.`);
      return undefined;
    }
    return connection;
  }

  /** The connection's selection run, started when nobody has one open (one run per connection). */
  async function selectionRun(connection: NonNullable<Awaited<ReturnType<typeof findConnection>>>): Promise<WorkflowHandle<typeof groupSelectionWorkflow>> {
    return temporal.workflow.start<typeof groupSelectionWorkflow>('groupSelectionWorkflow', {
      workflowId: groupSelectionWorkflowId(connection.id),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [
        { orgId: connection.org_id, connectionId: connection.id, tenantId: connection.tenant_id, previewBudgetMs: config.PREVIEW_BUDGET_SECONDS * 1000 },
        connection.selection_version,
        await savedGroupIds(db, connection.id),
      ],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  }

  /**
   * The connection's open selection run, if there is one. GETs only read: a prefetch or a
   * cross-site navigation must not start a run that reads 1,000 groups from Graph.
   */
  async function openRun(connection: NonNullable<Awaited<ReturnType<typeof findConnection>>>): Promise<WorkflowHandle<typeof groupSelectionWorkflow> | undefined> {
    const handle = temporal.workflow.getHandle<typeof groupSelectionWorkflow>(groupSelectionWorkflowId(connection.id));
    try {
      return (await handle.describe()).status.name === 'RUNNING' ? handle : undefined;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  /** No open run (it was saved, or never started): back to the pane, where Manage groups starts one. */
  const toPane = (res: Response, connectionId: string) => res.redirect(303, `${INTEGRATIONS}?expand=${connectionId}`);

  async function renderPicker(res: Response, connection: NonNullable<Awaited<ReturnType<typeof findConnection>>>, error?: string, status = 200) {
    const handle = await openRun(connection);
    if (!handle) return toPane(res, connection.id);
    const selection = await handle.query(selectionStatusQuery);
    const saved = await savedGroupIds(db, connection.id);
    const groups = selection.stage === 'loading' || selection.stage === 'failed' ? [] : await pickerGroups(db, connection.id, selection.selection);
    res.status(status).send(
      views.render('groups', {
        ...res.locals,
        title: 'Select groups to sync',
        section: 'integrations',
        connection,
        selection,
        selected: new Set(selection.selection),
        saved: new Set(saved),
        groups,
        largeSelection: LARGE_SELECTION,
        error,
      }),
    );
  }

  // Manage groups: starts the connection's selection run, or joins the one another admin has open.
  router.post(GROUPS, ...admin, async (req, res) => {
    const connection = await connectedOf(req, res, req.body);
    if (!connection) return;
    await selectionRun(connection);
    res.redirect(303, `${GROUPS}?connection=${connection.id}`);
  });

  router.get(GROUPS, ...admin, async (req, res) => {
    const connection = await connectionOf(req, res, req.query);
    if (connection) await renderPicker(res, connection);
  });

  // Search across the whole tenant (Graph $search) through the selection run.
  router.get(`${GROUPS}/search`, ...admin, async (req, res) => {
    const connection = await connectionOf(req, res, req.query);
    if (!connection) return;
    const parsed = searchParams.safeParse(req.query);
    if (!parsed.success) return res.status(422).send(views.render('partials/search-results', { ...res.locals, groups: [], error: 'Search for at most 100 characters of a group name.' }));
    // A cleared search box: no results to show, and no error either.
    if (parsed.data.q === '') return res.send('');
    const handle = await openRun(connection);
    if (!handle) return res.status(409).send(views.render('partials/search-results', { ...res.locals, groups: [], error: 'This group selection has ended. Open Manage groups again to search.' }));
    const status = await handle.query(selectionStatusQuery);
    try {
      const groups = await handle.executeUpdate(searchGroupsUpdate, { args: [{ query: parsed.data.q }] });
      res.send(views.render('partials/search-results', { ...res.locals, groups, query: parsed.data.q, selected: new Set(status.selection) }));
    } catch (error) {
      res.status(422).send(views.render('partials/search-results', { ...res.locals, groups: [], error: refusal(error) }));
    }
  });

  router.post(`${GROUPS}/preview`, ...admin, async (req, res) => {
    const connection = await connectedOf(req, res, req.body);
    if (!connection) return;
    const parsed = previewForm.safeParse(req.body);
    if (!parsed.success) return renderPicker(res, connection, 'The selection could not be read. Check the groups and try again.', 422);
    const groupIds = parsed.data.group === undefined ? [] : [parsed.data.group].flat();
    const handle = await selectionRun(connection);
    try {
      await handle.executeUpdate(requestPreviewUpdate, { args: [{ groupIds, baseVersion: parsed.data.baseVersion }] });
    } catch (error) {
      return renderPicker(res, connection, refusal(error), 422);
    }
    res.redirect(303, `${PREVIEW}?connection=${connection.id}`);
  });

  router.get(PREVIEW, ...admin, async (req, res) => {
    const connection = await connectionOf(req, res, req.query);
    if (!connection) return;
    const handle = await openRun(connection);
    if (!handle) return toPane(res, connection.id);
    const status = await handle.query(selectionStatusQuery);
    if (!status.preview) return res.redirect(303, `${GROUPS}?connection=${connection.id}`);
    res.send(views.render('preview', { ...res.locals, ...(await previewData(connection, status)), saveId: randomBytes(12).toString('base64url') }));
  });

  router.post(`${PREVIEW}/save`, ...admin, async (req, res) => {
    const connection = await connectedOf(req, res, req.body);
    if (!connection) return;
    const parsed = saveForm.safeParse(req.body);
    if (!parsed.success) return deny(res, 400, 'This save request could not be read. Go back to the preview and try again.');
    const handle = await selectionRun(connection);
    try {
      // The update id makes a double submit (or a retried request) one save.
      const { saveId, previewId, baseVersion } = parsed.data;
      await handle.executeUpdate(saveSelectionUpdate, { args: [{ saveId, previewId, baseVersion }], updateId: `save-${saveId}` });
    } catch (error) {
      // A double submit whose first request finished the run: the save itself is done.
      const current = await findConnection(db, res.locals.org!.id, connection.id);
      if (current?.last_save_id === parsed.data.saveId) {
        await setFlash(db, res.locals.session!.idHash, { kind: 'success', title: 'Group selection saved.' });
        return res.redirect(303, `${INTEGRATIONS}?expand=${connection.id}`);
      }
      const status = await handle.query(selectionStatusQuery);
      if (!status.preview) return renderPicker(res, connection, refusal(error), 409);
      return res.status(409).send(views.render('preview', { ...res.locals, ...(await previewData(connection, status)), saveId: randomBytes(12).toString('base64url'), error: refusal(error) }));
    }
    await setFlash(db, res.locals.session!.idHash, { kind: 'success', title: 'Group selection saved.' });
    res.redirect(303, `${INTEGRATIONS}?expand=${connection.id}`);
  });

  async function previewData(connection: NonNullable<Awaited<ReturnType<typeof findConnection>>>, status: SelectionStatus) {
    const preview = status.preview!;
    const saved = await savedGroupIds(db, connection.id);
    const [samples, names, impact] = await Promise.all([
      previewSamples(db, connection.id, preview.previewId),
      groupNames(db, connection.id, [...new Set([...preview.groupIds, ...saved])]),
      saveImpact(db, connection.id, preview.previewId, preview.groupIds),
    ]);
    const nameOf = new Map(names.map((row) => [row.group_id, row.display_name]));
    const typeOf = new Map(names.map((row) => [row.group_id, row.group_type]));
    const sampleOf = new Map(samples.map((sample) => [sample.group_id, sample]));
    // Two groups with one name are told apart by type, size and a short id.
    const nameCount = new Map<string, number>();
    for (const id of preview.groupIds) nameCount.set(nameOf.get(id) ?? id, (nameCount.get(nameOf.get(id) ?? id) ?? 0) + 1);
    const added = preview.groupIds.filter((id) => !saved.includes(id));
    const removed = saved.filter((id) => !preview.groupIds.includes(id));
    return {
      title: 'Preview the sync',
      section: 'integrations',
      connection,
      preview,
      baseVersion: status.baseVersion,
      groups: preview.groupIds.map((id) => ({
        id,
        name: nameOf.get(id) ?? id,
        type: typeOf.get(id) ?? null,
        sameName: (nameCount.get(nameOf.get(id) ?? id) ?? 0) > 1,
        sample: sampleOf.get(id),
        // What a failed sample can do about it, in words (hidden membership has advice of its own).
        advice: sampleOf.get(id)?.error === FailureType.HiddenMembership ? describeFailure({ type: FailureType.HiddenMembership, message: '' }) : undefined,
        failed: preview.failedGroupIds.includes(id),
        timedOut: preview.timedOutGroupIds.includes(id),
      })),
      added: added.map((id) => nameOf.get(id) ?? id),
      removed: removed.map((id) => nameOf.get(id) ?? id),
      impact,
    };
  }

  return router;
}

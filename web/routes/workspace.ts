import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { connectionRow, findConnection } from '../../db/repositories/connections.js';
import { paneSummary, usersPage, USERS_PAGE } from '../../db/repositories/directory.js';
import { setFlash } from '../../db/repositories/sessions.js';
import {
  confirmRemovalsUpdate,
  disconnectUpdate,
  directorySyncWorkflowId,
  syncNowSignal,
  syncStatusQuery,
  type DirectorySyncStatus,
} from '../../workflows/sync/messages.js';
import type { directorySyncWorkflow } from '../../workflows/sync/workflow.js';
import { syncSettings } from '../../lib/config.js';
import { DIRECTORY_SYNC_WORKFLOW, syncStartOptions } from '../../lib/sync-launcher.js';
import type { AppDeps } from '../app.js';
import { refusal, seeOther } from '../responses.js';
import { requireOrgAdmin, requireSignedIn } from '../session.js';
import type { Views } from '../views.js';
import { CONNECTION, INTEGRATIONS } from '../paths.js';

const confirmForm = z.object({ runId: z.uuid(), digest: z.string().regex(/^[\w-]{43}$/) });

const usersQuery = z.object({
  // Control characters (NUL among them, which PostgreSQL text refuses) never match a name.
  q: z
    .string()
    .max(100)
    .transform((value) => value.replace(/\p{Cc}/gu, '').trim())
    .optional(),
  afterName: z.string().max(500).refine((value) => !value.includes('\u0000')).optional(),
  afterId: z.uuid().optional(),
  tab: z.enum(['groups', 'users']).optional(),
});

/** A connection row as the sync launcher names it. */
const targetOf = (connection: { org_id: string; id: string; tenant_id: string; tenant_name: string }) => ({ orgId: connection.org_id, connectionId: connection.id, tenantId: connection.tenant_id, tenantName: connection.tenant_name });

export type Pane = Awaited<ReturnType<ReturnType<typeof workspace>['pane']>>;

/** Reads what the workspace pane shows; used by the pane's own endpoint and by the page. */
export function workspace({ db, temporal }: Pick<AppDeps, 'db' | 'temporal'>) {
  return {
    async pane(connection: NonNullable<Awaited<ReturnType<typeof findConnection>>>, tab: 'groups' | 'users' = 'groups', query?: string) {
      const [summary, users, sync] = await Promise.all([
        paneSummary(db, connection.id),
        usersPage(db, connection.id, { query }),
        temporal.workflow
          .getHandle(directorySyncWorkflowId(connection.id))
          .query(syncStatusQuery)
          .catch((): DirectorySyncStatus | undefined => undefined),
      ]);
      return { connection, tab, query: query ?? '', ...summary, page: users.slice(0, USERS_PAGE), more: users.length > USERS_PAGE, sync };
    },
  };
}

export function workspaceRoutes(deps: AppDeps & { views: Views }): Router {
  const { db, temporal, views, config } = deps;
  const router = Router();
  const data = workspace(deps);
  const deny = (res: Response, status: 403 | 404, message: string) =>
    res.status(status).send(views.render('error', { ...res.locals, title: status === 404 ? 'Not found' : 'Admins only', message }));
  const admin = [requireSignedIn, requireOrgAdmin(db, deny)];
  const connectionOf = async (res: Response, id: unknown) => {
    const parsed = z.uuid().safeParse(id);
    const connection = parsed.success ? await findConnection(db, res.locals.org!.id, parsed.data) : undefined;
    if (!connection) deny(res, 404, 'There is nothing at this address.');
    return connection;
  };
  const back = (req: Request, res: Response, connectionId: string) => seeOther(req, res, `${INTEGRATIONS}?expand=${connectionId}`);

  router.get(`${CONNECTION}/pane`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    const query = usersQuery.safeParse(req.query);
    const options = query.success ? query.data : {};
    const pane = views.render('partials/workspace-pane', { ...res.locals, pane: await data.pane(connection, options.tab, options.q) });
    // The Synced directories row goes along out of band, so the row and the pane show one state.
    const row = req.get('HX-Request') ? await connectionRow(db, res.locals.org!.id, connection.id) : undefined;
    res.send(row ? `${pane}<template>${views.render('partials/directory-row', { connection: row, expanded: true, oob: true })}</template>` : pane);
  });

  // The All users tab: search and keyset paging, as a partial for htmx or a page of its own.
  router.get(`${CONNECTION}/users`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    const parsed = usersQuery.safeParse(req.query);
    if (!parsed.success) return res.status(422).send(views.render('partials/users-list', { ...res.locals, connection, page: [], more: false, query: '', error: 'Search for up to 100 characters of a name or email.' }));
    const { q, afterName, afterId } = parsed.data;
    const rows = await usersPage(db, connection.id, { query: q, after: afterId ? { name: afterName ?? '', id: afterId } : undefined });
    res.send(views.render('partials/users-list', { ...res.locals, connection, page: rows.slice(0, USERS_PAGE), more: rows.length > USERS_PAGE, query: q ?? '', appending: afterId !== undefined }));
  });

  router.post(`${CONNECTION}/sync-now`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    if (connection.status === 'disconnected') {
      await setFlash(db, res.locals.session!.idHash, { kind: 'error', title: `${connection.tenant_name} is disconnected`, message: 'Connect it again (Settings → Integrations → Connect) before syncing.' });
      return back(req, res, connection.id);
    }
    await temporal.workflow.signalWithStart<typeof directorySyncWorkflow, []>(DIRECTORY_SYNC_WORKFLOW, {
      ...syncStartOptions(targetOf(connection), config.TEMPORAL_TASK_QUEUE, syncSettings(config)),
      signal: syncNowSignal,
      signalArgs: [],
    });
    await setFlash(db, res.locals.session!.idHash, { kind: 'success', title: `Sync started for ${connection.tenant_name}.` });
    back(req, res, connection.id);
  });

  // The admin confirms exactly the held set the pane showed: its run and digest travel with the form.
  router.post(`${CONNECTION}/confirm-removals`, ...admin, async (req, res) => {
    const connection = await connectionOf(res, req.params.connectionId);
    if (!connection) return;
    const form = confirmForm.safeParse(req.body);
    const refuse = async (message: string) => {
      await setFlash(db, res.locals.session!.idHash, { kind: 'error', title: 'Nobody was removed', message });
      back(req, res, connection.id);
    };
    if (!form.success) return refuse('This confirmation does not say which removals it confirms. Reload the page and look at them again.');
    try {
      const { count } = await temporal.workflow.getHandle(directorySyncWorkflowId(connection.id)).executeUpdate(confirmRemovalsUpdate, { args: [form.data] });
      await setFlash(db, res.locals.session!.idHash, { kind: 'success', title: `Removing ${count} users on the next sync.` });
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
    if (connection.status === 'disconnected') {
      await setFlash(db, res.locals.session!.idHash, { kind: 'error', title: `${connection.tenant_name} is disconnected already.` });
      return back(req, res, connection.id);
    }
    await temporal.workflow.executeUpdateWithStart(disconnectUpdate, {
      args: [],
      startWorkflowOperation: new WithStartWorkflowOperation<typeof directorySyncWorkflow>(DIRECTORY_SYNC_WORKFLOW, {
        ...syncStartOptions(targetOf(connection), config.TEMPORAL_TASK_QUEUE, syncSettings(config)),
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
    await setFlash(db, res.locals.session!.idHash, { kind: 'success', title: `${connection.tenant_name} was disconnected and its users removed from Hook.` });
    back(req, res, connection.id);
  });

  return router;
}

import type { RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { connectionAlerts } from '../db/repositories/alerts.js';
import { findConnection, type Connection } from '../db/repositories/connections.js';
import { requireOrgAdmin, requireSignedIn } from './session.js';
import type { Views } from './views.js';

const TITLES = { 400: 'Not allowed', 403: 'Admins only', 404: 'Not found', 409: 'Not allowed' } as const;

export type DenyStatus = keyof typeof TITLES;

/**
 * Who may do what, once for every route module: the error page, the admin guard, and the
 * connection a request names — found only among the current org's, so another org's
 * connection is a 404 whatever id is forged.
 */
export function createAccess(db: Db, views: Views) {
  const deny = (res: Response, status: DenyStatus, message: string) => {
    res.status(status).send(views.render('error', { ...res.locals, title: TITLES[status], message }));
  };
  // A page an admin opens says which connections need them (htmx regions are parts of a page already showing it).
  const alerts: RequestHandler = async (req, res, next) => {
    if (req.method === 'GET' && !req.get('HX-Request')) res.locals.alerts = await connectionAlerts(db, res.locals.org!.id);
    next();
  };
  const admin: RequestHandler[] = [requireSignedIn, requireOrgAdmin(db, deny), alerts];

  async function connectionOf(res: Response, id: unknown): Promise<Connection | undefined> {
    const parsed = z.uuid().safeParse(id);
    const connection = parsed.success ? await findConnection(db, res.locals.org!.id, parsed.data) : undefined;
    if (!connection) deny(res, 404, 'There is nothing at this address.');
    return connection;
  }

  /** For actions that change the selection or sync: a disconnected connection is refused (Connect brings it back). */
  async function connectedOf(res: Response, id: unknown, refused: (connection: Connection) => string): Promise<Connection | undefined> {
    const connection = await connectionOf(res, id);
    if (connection?.status !== 'disconnected') return connection;
    deny(res, 409, refused(connection));
    return undefined;
  }

  return { deny, admin, connectionOf, connectedOf };
}

export type Access = ReturnType<typeof createAccess>;

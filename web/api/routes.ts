import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/client.js';
import { authenticateApiKey } from '../../db/repositories/api-keys.js';
import { apiConnections, apiGroupKey, apiGroups, apiUsers, type ApiScope, type GroupKey, type UserKey } from '../../db/repositories/directory-api.js';
import { eventCursor, publicEvent } from '../../lib/event-shape.js';
import { openApiDocument } from './openapi.js';
import { eventsAfter, feedEnd, isBehindHorizon, type EventRow, type FeedPosition } from '../../db/repositories/events.js';
import { EVENT_RETENTION_DAYS, EventsQuery, GroupsQuery, MembersQuery, UsersQuery, type ApiConnection, type ApiEvent, type ApiGroup, type ApiUser, type EventType } from './schemas.js';

type ErrorCode = 'unauthorized' | 'not_found' | 'invalid_request' | 'cursor_expired';
const STATUS: Record<ErrorCode, number> = { unauthorized: 401, not_found: 404, invalid_request: 400, cursor_expired: 410 };

function fail(res: Response, code: ErrorCode, message: string): void {
  if (code === 'unauthorized') res.setHeader('WWW-Authenticate', 'Bearer realm="hook-directory-api"');
  res.status(STATUS[code]).json({ error: { code, message } });
}

const iso = (value: Date | null) => (value === null ? null : value.toISOString());

// Cursors are opaque to clients: the last row's key, base64url JSON.
const encodeCursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
function decodeCursor<T>(cursor: string, shape: z.ZodType<T>): T | 'invalid' {
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : 'invalid';
  } catch {
    return 'invalid';
  }
}
const UserCursor = z.tuple([z.guid(), z.guid()]).transform(([connectionId, userId]): UserKey => ({ connectionId, userId }));
const GroupCursor = z.tuple([z.guid()]).transform(([groupId]) => groupId);
const digits = z.string().regex(/^\d{1,19}$/);
const EventCursor = z.tuple([digits, digits]).transform(([tx, id]): FeedPosition => ({ tx, id }));
/** Before the first event: where a reader with no cursor starts. */
const START: FeedPosition = { tx: '0', id: '0' };

/** One page: `limit` rows and, when there were more, the cursor after the last. */
function pageOf<R, T>(rows: R[], limit: number, toItem: (row: R) => T, keyOf: (row: R) => unknown) {
  const shown = rows.slice(0, limit);
  return { data: shown.map(toItem), nextCursor: rows.length > limit ? encodeCursor(keyOf(shown[shown.length - 1]!)) : null };
}

const toConnection = (row: Awaited<ReturnType<typeof apiConnections>>[number]): ApiConnection => ({
  id: row.id,
  tenantId: row.tenant_id,
  tenantName: row.tenant_name,
  status: row.status,
  syncStatus: row.sync_status,
  lastSyncAt: iso(row.last_sync_at),
  userCount: row.user_count,
});

const toGroup = (row: Awaited<ReturnType<typeof apiGroups>>[number]): ApiGroup => ({
  id: row.id,
  entraId: row.group_id,
  connectionId: row.connection_id,
  name: row.display_name,
  type: row.group_type,
  memberCount: row.member_count,
  status: row.status,
  lastSyncedAt: iso(row.last_synced_at),
  lastError: row.last_error,
});

const toUser = (row: Awaited<ReturnType<typeof apiUsers>>[number]): ApiUser => ({
  id: row.id,
  entraId: row.user_id,
  connectionId: row.connection_id,
  displayName: row.display_name,
  email: row.mail,
  userPrincipalName: row.user_principal_name,
  isGuest: row.is_guest,
  isDisabled: row.account_enabled === false,
  isSharedMailbox: row.is_shared_mailbox,
  status: row.removed_at === null ? 'active' : 'removed',
  groups: row.removed_at === null ? row.groups : [],
  updatedAt: row.updated_at.toISOString(),
  removedAt: iso(row.removed_at),
});

const toEvent = (row: EventRow): ApiEvent => ({ ...publicEvent(row), type: row.type as EventType });

const userKey = (row: { connection_id: string; user_id: string }) => [row.connection_id, row.user_id];
const idParam = z.guid();
/** Where the API lives; its routes carry the whole path, so logs, metrics and the route list name them in full. */
export const API = '/api/v1';

/**
 * The directory API, `/api/v1`: read-only JSON for the rest of Hook, authenticated by an org's
 * API key (`Authorization: Bearer hds_…`) and scoped to that org. Mounted before the session
 * and CSRF middleware: a browser's cookie authenticates nothing here.
 */
export function apiRoutes(db: Db, publicUrl: string): Router {
  const router = Router();
  router.use(API, (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  router.get(`${API}/openapi.json`, (_req, res) => void res.json(openApiDocument(publicUrl)));

  router.use(API, async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (\S+)$/.exec(header);
    if (!match) return fail(res, 'unauthorized', 'Send an API key as "Authorization: Bearer <key>" (create one in Settings → API keys).');
    const key = await authenticateApiKey(db, match[1]!);
    if (!key) return fail(res, 'unauthorized', 'This API key is not valid: it may have been revoked.');
    res.locals.apiScope = { orgId: key.orgId, connectionIds: key.connectionIds } satisfies ApiScope;
    next();
  });

  const scope = (res: Response) => res.locals.apiScope as ApiScope;
  const query = <T extends z.ZodType>(schema: T, req: Request, res: Response): z.infer<T> | undefined => {
    const parsed = schema.safeParse(req.query);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    fail(res, 'invalid_request', issue.code === 'unrecognized_keys' ? `Unknown parameter: ${issue.keys.join(', ')}` : issue.message);
    return undefined;
  };
  /** A path id: not a uuid, or not the org's, is the same 404. */
  const id = (req: Request, res: Response, what: string): string | undefined => {
    const parsed = idParam.safeParse(req.params.id);
    if (!parsed.success) fail(res, 'not_found', `No such ${what}.`);
    return parsed.success ? parsed.data : undefined;
  };
  const connectionKnown = (res: Response, connectionId: string | undefined) => {
    if (connectionId === undefined || scope(res).connectionIds.includes(connectionId)) return true;
    fail(res, 'not_found', 'No such connection.');
    return false;
  };
  /** The group asked for, where its members are: undefined when none was asked for, false once a 404 has answered. */
  const groupKey = async (res: Response, groupId: string | undefined): Promise<GroupKey | undefined | false> => {
    if (groupId === undefined) return undefined;
    const key = await apiGroupKey(db, scope(res), groupId);
    if (key) return key;
    fail(res, 'not_found', 'No such group.');
    return false;
  };
  /** `after` as a key: absent, the key, or false once a 400 has answered. */
  const cursor = <T>(res: Response, after: string | undefined, shape: z.ZodType<T>): T | undefined | false => {
    if (after === undefined) return undefined;
    const key = decodeCursor(after, shape);
    if (key !== 'invalid') return key;
    fail(res, 'invalid_request', 'after must be a cursor from a previous page');
    return false;
  };

  router.get(`${API}/connections`, async (_req, res) => {
    res.json({ data: (await apiConnections(db, scope(res))).map(toConnection) });
  });
  router.get(`${API}/connections/:id`, async (req, res) => {
    const connectionId = id(req, res, 'connection');
    if (!connectionId) return;
    const [row] = await apiConnections(db, scope(res), connectionId);
    if (!row) return fail(res, 'not_found', 'No such connection.');
    res.json(toConnection(row));
  });

  router.get(`${API}/groups`, async (req, res) => {
    const q = query(GroupsQuery, req, res);
    if (!q || !connectionKnown(res, q.connection)) return;
    const after = cursor(res, q.after, GroupCursor);
    if (after === false) return;
    const rows = await apiGroups(db, scope(res), { connectionId: q.connection, status: q.status, after, limit: q.limit });
    res.json(pageOf(rows, q.limit, toGroup, (row) => [row.id]));
  });
  router.get(`${API}/groups/:id`, async (req, res) => {
    const groupId = id(req, res, 'group');
    if (!groupId) return;
    const [row] = await apiGroups(db, scope(res), { groupId, limit: 1 });
    if (!row) return fail(res, 'not_found', 'No such group.');
    res.json(toGroup(row));
  });
  router.get(`${API}/groups/:id/members`, async (req, res) => {
    const groupId = id(req, res, 'group');
    const q = groupId === undefined ? undefined : query(MembersQuery, req, res);
    const group = q && (await groupKey(res, groupId));
    if (!group) return;
    const after = cursor(res, q.after, UserCursor);
    if (after === false) return;
    const rows = await apiUsers(db, scope(res), { group, status: 'active', after, limit: q.limit });
    res.json(pageOf(rows, q.limit, toUser, userKey));
  });

  router.get(`${API}/users`, async (req, res) => {
    const q = query(UsersQuery, req, res);
    if (!q || !connectionKnown(res, q.connection)) return;
    const group = await groupKey(res, q.group);
    if (group === false) return;
    const after = cursor(res, q.after, UserCursor);
    if (after === false) return;
    const rows = await apiUsers(db, scope(res), {
      connectionId: q.connection,
      group,
      status: q.status,
      updatedSince: q.updatedSince === undefined ? undefined : new Date(q.updatedSince),
      search: q.search,
      after,
      limit: q.limit,
    });
    res.json(pageOf(rows, q.limit, toUser, userKey));
  });
  router.get(`${API}/users/:id`, async (req, res) => {
    const userId = id(req, res, 'user');
    if (!userId) return;
    const [row] = await apiUsers(db, scope(res), { userId, status: 'all', limit: 1 });
    if (!row) return fail(res, 'not_found', 'No such user.');
    res.json(toUser(row));
  });

  // The events feed: every change to the org's directory, oldest first, from a cursor.
  router.get(`${API}/events`, async (req, res) => {
    const q = query(EventsQuery, req, res);
    if (!q || !connectionKnown(res, q.connection)) return;
    const after = cursor(res, q.after, EventCursor) ?? START;
    if (after === false) return;
    if (await isBehindHorizon(db, after)) {
      return fail(res, 'cursor_expired', `Events are kept ${EVENT_RETENTION_DAYS} days and some after this cursor are gone: read the users again, then follow the feed from GET /api/v1/events/cursor.`);
    }
    const rows = await eventsAfter(db, scope(res).orgId, { after, connectionId: q.connection, types: q.types, limit: q.limit + 1 });
    const shown = rows.slice(0, q.limit);
    res.json({ data: shown.map(toEvent), nextCursor: eventCursor(shown.at(-1) ?? after), hasMore: rows.length > q.limit });
  });
  router.get(`${API}/events/cursor`, async (_req, res) => {
    res.json({ cursor: eventCursor((await feedEnd(db, scope(res).orgId)) ?? START) });
  });

  router.use(API, (_req, res) => fail(res, 'not_found', 'No such API path (see /api/v1/openapi.json).'));
  // A failure inside a handler answers JSON too, without its details.
  router.use(API, (error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    Object.assign(res, { err: error }); // pino-http logs it with the request
    res.status(500).json({ error: { code: 'internal', message: 'Something went wrong; the request id is in X-Request-Id.' } });
  });
  return router;
}

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Db } from '../db/client.js';
import { membershipsOf } from '../db/repositories/accounts.js';
import { createSession, deleteSession, findSession } from '../db/repositories/sessions.js';
import type { OrgRole } from '../db/schema.js';
import type { Views } from './views.js';

export const SESSION_COOKIE = 'hook_session';
const VISITOR_COOKIE = 'hook_visitor';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface SignedIn {
  idHash: string;
  accountId: string;
  email: string;
  displayName: string;
  currentOrgId: string | null;
}

export interface OrgContext {
  id: string;
  slug: string;
  name: string;
  role: OrgRole;
}

declare module 'express-serve-static-core' {
  interface Locals {
    session?: SignedIn;
    csrfToken: string;
    orgs?: OrgContext[];
    org?: OrgContext;
  }
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    try {
      cookies[part.slice(0, index).trim()] = decodeURIComponent(part.slice(index + 1).trim());
    } catch {
      // A cookie that is not valid percent-encoding (`x=%`) is nobody's session: ignore it.
    }
  }
  return cookies;
}

export interface SessionOptions {
  db: Db;
  secret: string;
  /** Cookies get Secure when the app is served over https. */
  secure: boolean;
}

/**
 * Loads the signed-in account from the session cookie and gives every visitor a CSRF token:
 * an HMAC of the session (or, before sign-in, of a random visitor cookie), checked on every
 * state-changing request, htmx ones included (they send it as X-CSRF-Token).
 */
export function sessions({ db, secret, secure }: SessionOptions) {
  const cookieFlags = `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  const csrfFor = (subject: string) => createHmac('sha256', secret).update(`csrf:${subject}`).digest('base64url');

  const load: RequestHandler = async (req, res, next) => {
    const cookies = parseCookies(req.headers.cookie);
    const token = cookies[SESSION_COOKIE];
    if (token) {
      const row = await findSession(db, hashToken(token));
      // An expired session is deleted as soon as its cookie comes back (the sweep gets the rest).
      if (!row) await deleteSession(db, hashToken(token));
      if (row) {
        res.locals.session = {
          idHash: row.id_hash,
          accountId: row.account_id,
          email: row.email,
          displayName: row.display_name,
          currentOrgId: row.current_org_id,
        };
      }
    }
    let subject = res.locals.session?.idHash;
    if (subject === undefined) {
      let visitor = cookies[VISITOR_COOKIE];
      if (!visitor || !/^[\w-]{20,}$/.test(visitor)) {
        visitor = randomBytes(24).toString('base64url');
        res.append('Set-Cookie', `${VISITOR_COOKIE}=${visitor}; ${cookieFlags}`);
      }
      subject = `visitor:${visitor}`;
    }
    res.locals.csrfToken = csrfFor(subject);
    next();
  };

  const verifyCsrf: RequestHandler = (req, res, next) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return next();
    const body = req.body as Record<string, unknown> | undefined;
    const given = req.get('X-CSRF-Token') ?? (typeof body?._csrf === 'string' ? body._csrf : '');
    const expected = Buffer.from(res.locals.csrfToken);
    const actual = Buffer.from(given);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      res.status(403).type('text').send('This form has expired. Reload the page and try again.');
      // (A plain answer on purpose: a forged request gets nothing to render.)
      return;
    }
    next();
  };

  /** A new session id at every sign-in (the old one, if any, is dropped): no session fixation. */
  async function signIn(req: Request, res: Response, accountId: string): Promise<void> {
    const previous = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    if (previous) await deleteSession(db, hashToken(previous));
    const memberships = await membershipsOf(db, accountId);
    const token = randomBytes(32).toString('base64url');
    await createSession(db, { idHash: hashToken(token), accountId, currentOrgId: memberships[0]?.id ?? null, ttlMs: SESSION_TTL_MS });
    res.append('Set-Cookie', `${SESSION_COOKIE}=${token}; ${cookieFlags}; Max-Age=${SESSION_TTL_MS / 1000}`);
  }

  async function signOut(req: Request, res: Response): Promise<void> {
    const token = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    if (token) await deleteSession(db, hashToken(token));
    res.append('Set-Cookie', `${SESSION_COOKIE}=; ${cookieFlags}; Max-Age=0`);
  }

  return { load, verifyCsrf, signIn, signOut };
}

/** Only paths of this app: `next=https://evil.example` must not turn a form into a redirector. */
export const safeNext = (next: string | undefined) => (next && /^\/(?!\/)[\w\-./?=&%]*$/.test(next) ? next : '/org/settings/integrations');

export function requireSignedIn(req: Request, res: Response, next: NextFunction): void {
  if (res.locals.session) return next();
  if (req.get('HX-Request')) {
    res.set('HX-Redirect', '/sign-in').status(401).end();
    return;
  }
  res.redirect(303, `/sign-in?next=${encodeURIComponent(req.originalUrl)}`);
}

/**
 * The org a page acts on: the session's current org (changed only by POST /org/switch, with
 * CSRF). A request naming another org (`?org=slug`) never acts: a GET shows a "Switch to …?"
 * page, anything else is refused. An org the account is not in is a 404 (its existence is not
 * confirmed); a member who is no admin gets a 403.
 */
export function requireOrgAdmin(db: Db, deny: (res: Response, status: 403 | 404, message: string) => void): RequestHandler {
  return async (req, res, next) => {
    const session = res.locals.session!;
    const orgs = await membershipsOf(db, session.accountId);
    res.locals.orgs = orgs;
    const current = orgs.find((candidate) => candidate.id === session.currentOrgId) ?? orgs[0];
    const requested = typeof req.query.org === 'string' ? req.query.org : undefined;
    const named = requested === undefined ? current : orgs.find((candidate) => candidate.slug === requested);
    if (!named || !current) {
      deny(res, 404, 'There is nothing at this address.');
      return;
    }
    res.locals.org = current;
    if (named.id !== current.id) {
      if (req.method === 'GET') {
        const url = new URL(req.originalUrl, 'http://hook.invalid');
        url.searchParams.delete('org');
        res.status(200).send((res.app.locals.views as Views).render('switch-org', { ...res.locals, title: `Switch to ${named.name}?`, target: named, next: `${url.pathname}${url.search}` }));
      } else {
        res.status(409).type('text').send(`This form was for ${named.name}, but you are working in ${current.name}. Switch organizations and try again.`);
      }
      return;
    }
    if (current.role !== 'admin') {
      deny(res, 403, `Settings is for org admins. Ask an admin of ${current.name} for access.`);
      return;
    }
    next();
  };
}

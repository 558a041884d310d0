import { Router } from 'express';
import { z } from 'zod';
import { findAccountByEmail } from '../../db/repositories/accounts.js';
import { reserveAttempt, withdrawAttempt } from '../../db/repositories/sign-in-failures.js';
import { verifyPassword } from '../../lib/passwords.js';
import type { AppDeps } from '../app.js';
import { safeNext, type sessions } from '../session.js';
import type { Views } from '../views.js';

export const SIGN_IN_WINDOW_MS = 15 * 60 * 1000;
/**
 * Limits per 15 minutes. Per account *and address* (5): guessing one account's password from one
 * place. Per address (20): one place trying many accounts. Per account from everywhere (50): a
 * distributed guess. The per-account ceiling is ten times the pair limit so that somebody else,
 * failing on purpose from one or two addresses, cannot lock an admin out (docs/security.md).
 */
const MAX_PER_PAIR = 5;
const MAX_PER_ADDRESS = 20;
const MAX_PER_ACCOUNT = 50;

const signInForm = z.object({
  email: z.string().trim().toLowerCase().email('Enter your email address.').max(320),
  password: z.string().min(1, 'Enter your password.').max(1024),
  next: z.string().optional(),
});


export function authRoutes({ db, views, session }: Pick<AppDeps, 'db'> & { views: Views; session: ReturnType<typeof sessions> }): Router {
  const router = Router();

  router.get('/sign-in', (req, res) => {
    if (res.locals.session) return res.redirect(303, '/org/settings/integrations');
    res.send(views.render('sign-in', { ...res.locals, title: 'Sign in', next: typeof req.query.next === 'string' ? req.query.next : '', errors: {} }));
  });

  router.post('/sign-in', async (req, res) => {
    const parsed = signInForm.safeParse(req.body);
    const form = req.body as Record<string, string>;
    const rerender = (status: number, errors: Record<string, string>) =>
      res.status(status).send(views.render('sign-in', { ...res.locals, title: 'Sign in', next: form.next ?? '', email: form.email ?? '', errors }));
    if (!parsed.success) {
      return rerender(422, Object.fromEntries(parsed.error.issues.map((issue) => [String(issue.path[0]), issue.message])));
    }
    const { email, password, next } = parsed.data;
    // req.ip is the client's address, or a trusted proxy's X-Forwarded-For (TRUST_PROXY).
    const address = req.ip ?? 'unknown';
    const counts = await reserveAttempt(db, email, address, SIGN_IN_WINDOW_MS);
    if (counts.forPair > MAX_PER_PAIR || counts.forAddress > MAX_PER_ADDRESS || counts.forAccount > MAX_PER_ACCOUNT) {
      res.setHeader('Retry-After', String(SIGN_IN_WINDOW_MS / 1000));
      return rerender(429, { form: 'Too many failed sign-ins. Wait 15 minutes and try again.' });
    }
    const account = await findAccountByEmail(db, email);
    // Hash even for unknown accounts, so the answer takes as long either way.
    const ok = await verifyPassword(account?.password_hash ?? DUMMY_HASH, password);
    if (!account || !ok) return rerender(401, { form: 'That email and password do not match an account.' });
    await withdrawAttempt(db, email, address);
    await session.signIn(req, res, account.id);
    res.redirect(303, safeNext(next));
  });

  router.post('/sign-out', async (req, res) => {
    await session.signOut(req, res);
    res.redirect(303, '/sign-in');
  });
  return router;
}

// argon2id of a random password nobody knows.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$3g9ACqYf0yhr2ZQmOHe3dT8ZgJ3LOpwY2bUiGn0QI2M';

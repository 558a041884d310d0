import type { Db } from '../db/client.js';
import { addMembership, createAccount, createOrg, findAccountByEmail, findOrgBySlug } from '../db/repositories/accounts.js';
import type { OrgRole } from '../db/schema.js';
import { hashPassword } from '../lib/passwords.js';

export class CliError extends Error {
  override name = 'CliError';
}

export async function createOrgCommand(db: Db, slug: string, name: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(slug)) throw new CliError(`--slug must be 2–63 lower-case letters, digits or dashes (got "${slug}")`);
  if (await findOrgBySlug(db, slug)) throw new CliError(`an org with slug "${slug}" exists already`);
  return (await createOrg(db, { slug, name })).id;
}

/** Adds an account to an org with a role, creating the account when the email is new. */
export async function addAccountCommand(
  db: Db,
  input: { orgSlug: string; email: string; displayName: string; role: OrgRole; password?: string },
): Promise<{ accountId: string; created: boolean }> {
  const org = await findOrgBySlug(db, input.orgSlug);
  if (!org) throw new CliError(`no org with slug "${input.orgSlug}"`);
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(input.email)) throw new CliError(`--email must be an email address (got "${input.email}")`);
  let account = await findAccountByEmail(db, input.email);
  let created = false;
  if (!account) {
    if (input.password === undefined || input.password.length < 12) throw new CliError('a new account needs a password of at least 12 characters (HOOK_PASSWORD)');
    const row = await createAccount(db, { email: input.email, displayName: input.displayName, passwordHash: await hashPassword(input.password) });
    account = { ...row, password_hash: '' };
    created = true;
  }
  await addMembership(db, org.id, account.id, input.role);
  return { accountId: account.id, created };
}

/** `npm start` on embedded defaults: a demo org and admin, so a newcomer can sign in at once. */
export const DEMO_ADMIN = { email: 'admin@hook.test', password: 'hook-demo-password', orgSlug: 'demo', orgName: 'Hook Demo Co' };

export async function seedDemo(db: Db): Promise<void> {
  if (!(await findOrgBySlug(db, DEMO_ADMIN.orgSlug))) await createOrgCommand(db, DEMO_ADMIN.orgSlug, DEMO_ADMIN.orgName);
  if (!(await findAccountByEmail(db, DEMO_ADMIN.email))) {
    await addAccountCommand(db, { orgSlug: DEMO_ADMIN.orgSlug, email: DEMO_ADMIN.email, displayName: 'Demo Admin', role: 'admin', password: DEMO_ADMIN.password });
  }
}

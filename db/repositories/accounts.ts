import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, OrgRole } from '../schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export function createOrg(db: Executor, org: { slug: string; name: string }) {
  return db.insertInto('orgs').values(org).returning(['id', 'slug', 'name']).executeTakeFirstOrThrow();
}

export function findOrgBySlug(db: Executor, slug: string) {
  return db.selectFrom('orgs').select(['id', 'slug', 'name']).where('slug', '=', slug).executeTakeFirst();
}

export function createAccount(db: Executor, account: { email: string; displayName: string; passwordHash: string }) {
  return db
    .insertInto('accounts')
    .values({ email: account.email, display_name: account.displayName, password_hash: account.passwordHash })
    .returning(['id', 'email', 'display_name'])
    .executeTakeFirstOrThrow();
}

export function findAccountByEmail(db: Executor, email: string) {
  return db
    .selectFrom('accounts')
    .select(['id', 'email', 'display_name', 'password_hash'])
    .where(sql`lower(email)`, '=', email.toLowerCase())
    .executeTakeFirst();
}

export async function addMembership(db: Executor, orgId: string, accountId: string, role: OrgRole): Promise<void> {
  await db
    .insertInto('org_memberships')
    .values({ org_id: orgId, account_id: accountId, role })
    .onConflict((conflict) => conflict.columns(['org_id', 'account_id']).doUpdateSet({ role }))
    .execute();
}

/** The orgs an account belongs to, with its role in each, in name order (the org switcher). */
export function membershipsOf(db: Executor, accountId: string) {
  return db
    .selectFrom('org_memberships')
    .innerJoin('orgs', 'orgs.id', 'org_memberships.org_id')
    .select(['orgs.id', 'orgs.slug', 'orgs.name', 'org_memberships.role'])
    .where('org_memberships.account_id', '=', accountId)
    .orderBy('orgs.name')
    .execute();
}

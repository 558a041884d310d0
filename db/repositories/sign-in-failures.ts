import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

export async function recordSignInFailure(db: Kysely<Database>, email: string, address: string): Promise<void> {
  await db.insertInto('sign_in_failures').values({ email: email.toLowerCase(), address }).execute();
}

/** Failures within the window, for the account and for the address. */
export async function countSignInFailures(db: Kysely<Database>, email: string, address: string, windowMs: number) {
  const since = sql<Date>`now() - make_interval(secs => ${windowMs / 1000})`;
  const row = await db
    .selectFrom('sign_in_failures')
    .select([
      sql<number>`count(*) filter (where email = ${email.toLowerCase()})`.as('forAccount'),
      sql<number>`count(*) filter (where address = ${address})`.as('forAddress'),
    ])
    .where('at', '>', since)
    .where((eb) => eb.or([eb('email', '=', email.toLowerCase()), eb('address', '=', address)]))
    .executeTakeFirstOrThrow();
  return { forAccount: Number(row.forAccount), forAddress: Number(row.forAddress) };
}

export async function clearSignInFailures(db: Kysely<Database>, email: string): Promise<void> {
  await db.deleteFrom('sign_in_failures').where('email', '=', email.toLowerCase()).execute();
}

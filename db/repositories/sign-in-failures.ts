import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface AttemptCounts {
  /** Failures (this attempt included) for this account from this address. */
  forPair: number;
  /** Failures from this address, whatever the account. */
  forAddress: number;
  /** Failures for this account, from every address. */
  forAccount: number;
}

/**
 * Counts a sign-in attempt before its password is checked: the attempt is written as a failure
 * first, then counted with every failure committed before it. Of N attempts racing, the k-th to
 * commit sees at least k, so no more than the limit are ever let through to the password check.
 * A correct password then takes its own row back (withdrawAttempt).
 */
export async function reserveAttempt(db: Kysely<Database>, email: string, address: string, windowMs: number): Promise<AttemptCounts> {
  const account = email.toLowerCase();
  await db.insertInto('sign_in_failures').values({ email: account, address }).execute();
  const since = sql<Date>`now() - make_interval(secs => ${windowMs / 1000})`;
  const row = await db
    .selectFrom('sign_in_failures')
    .select([
      sql<string>`count(*) filter (where email = ${account} and address = ${address})`.as('forPair'),
      sql<string>`count(*) filter (where address = ${address})`.as('forAddress'),
      sql<string>`count(*) filter (where email = ${account})`.as('forAccount'),
    ])
    .where('at', '>', since)
    .where((eb) => eb.or([eb('email', '=', account), eb('address', '=', address)]))
    .executeTakeFirstOrThrow();
  return { forPair: Number(row.forPair), forAddress: Number(row.forAddress), forAccount: Number(row.forAccount) };
}

/** A successful sign-in: its reserved row goes, and so do earlier failures of the same account and address. */
export async function withdrawAttempt(db: Kysely<Database>, email: string, address: string): Promise<void> {
  await db.deleteFrom('sign_in_failures').where('email', '=', email.toLowerCase()).where('address', '=', address).execute();
}

/** Failures older than the window count for nothing: the sweep deletes them. */
export async function deleteOldSignInFailures(db: Kysely<Database>, windowMs: number): Promise<number> {
  const result = await db.deleteFrom('sign_in_failures').where('at', '<', sql<Date>`now() - make_interval(secs => ${windowMs / 1000})`).executeTakeFirst();
  return Number(result.numDeletedRows);
}

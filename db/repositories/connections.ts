import type { Kysely, Transaction } from 'kysely';
import type { Database, VerifiedDomain } from '../schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** Connect or reconnect a tenant: one row per org and tenant, updated on reconnect, never duplicated. */
export async function upsertConnection(
  db: Executor,
  connection: { orgId: string; tenantId: string; tenantName: string; verifiedDomains: VerifiedDomain[] },
): Promise<string> {
  const row = await db
    .insertInto('entra_connections')
    .values({
      org_id: connection.orgId,
      tenant_id: connection.tenantId,
      tenant_name: connection.tenantName,
      verified_domains: JSON.stringify(connection.verifiedDomains),
    })
    .onConflict((conflict) =>
      conflict.columns(['org_id', 'tenant_id']).doUpdateSet({
        tenant_name: connection.tenantName,
        verified_domains: JSON.stringify(connection.verifiedDomains),
        status: 'connected',
        updated_at: new Date(),
      }),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The Synced directories table's rows: connections with their synced-group counts. */
function connectionRows(db: Executor, orgId: string) {
  return db
    .selectFrom('entra_connections')
    .selectAll()
    .select((eb) =>
      eb
        .selectFrom('synced_groups')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('synced_groups.connection_id', '=', 'entra_connections.id')
        .as('synced_group_count'),
    )
    .select('user_count')
    .where('org_id', '=', orgId);
}

export function listConnections(db: Executor, orgId: string) {
  return connectionRows(db, orgId).orderBy('connected_at').execute();
}

/** One row of the table, to send again when the pane changes. */
export function connectionRow(db: Executor, orgId: string, connectionId: string) {
  return connectionRows(db, orgId).where('id', '=', connectionId).executeTakeFirst();
}

/** A connection of this org, or undefined: another org's connection is never found. */
export function findConnection(db: Executor, orgId: string, connectionId: string) {
  return db
    .selectFrom('entra_connections')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', connectionId)
    .executeTakeFirst();
}

/** A connection as the routes and services pass it around. */
export type Connection = NonNullable<Awaited<ReturnType<typeof findConnection>>>;

import type { Db } from '../../db/client.js';

export function createProbeActivities(db: Db) {
  return {
    async recordOrg(slug: string, name: string): Promise<string> {
      // Idempotent like every activity should be: a retry finds the row it wrote.
      const row = await db
        .insertInto('orgs')
        .values({ slug, name })
        .onConflict((conflict) => conflict.column('slug').doUpdateSet({ name }))
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },
    async readOrgName(id: string): Promise<string> {
      const row = await db.selectFrom('orgs').select('name').where('id', '=', id).executeTakeFirstOrThrow();
      return row.name;
    },
  };
}

export type ProbeActivities = ReturnType<typeof createProbeActivities>;

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { stagePage, type StagedUser } from '../../db/repositories/sync/staging.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const user = (id: string): StagedUser => ({
  id,
  displayName: 'Adele Vance',
  mail: 'adele@contoso.example',
  userPrincipalName: 'adele@contoso.example',
  userType: 'Member',
  accountEnabled: true,
  isGuest: false,
  isSharedMailbox: false,
  emailDomain: 'contoso.example',
});

/** A page of a full read, as the run stages it before its commit. */
describe('staging a page of members', () => {
  let database: TestDatabase;
  let connectionId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const orgId = await createOrgCommand(database.db, 'staging-org', 'Staging Org');
    connectionId = await upsertConnection(database.db, { orgId, tenantId: randomUUID(), tenantName: 'Staging Tenant', verifiedDomains: [] });
  });
  afterAll(async () => {
    await database.drop();
  });

  const openRun = async () => {
    const runId = randomUUID();
    await database.db.insertInto('sync_runs').values({ id: runId, connection_id: connectionId, trigger: 'sync-now', kind: 'full' }).execute();
    return runId;
  };
  const staged = (runId: string) =>
    database.db.selectFrom('sync_staged_members').select(['group_id', 'member_id', 'member_type', 'removed']).where('run_id', '=', runId).orderBy('member_id').execute();

  it('stages each member once, users and nested groups by their type, none removed', async () => {
    const runId = await openRun();
    const [groupId, adele, alex, nested] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    // A page that lists a member twice, then the same page written again (as a retried read writes it).
    const edges = [
      { id: adele, type: 'user' as const, removed: false },
      { id: nested, type: 'group' as const, removed: false },
      { id: alex, type: 'user' as const, removed: false },
      { id: adele, type: 'user' as const, removed: false },
    ];
    await stagePage(database.db, runId, groupId, [user(adele), user(alex)], edges);
    await stagePage(database.db, runId, groupId, [], edges.slice(0, 2));

    expect(await staged(runId)).toEqual(
      [
        { group_id: groupId, member_id: adele, member_type: 'user', removed: false },
        { group_id: groupId, member_id: alex, member_type: 'user', removed: false },
        { group_id: groupId, member_id: nested, member_type: 'group', removed: false },
      ].sort((a, b) => (a.member_id < b.member_id ? -1 : 1)),
    );
  });

  it('refuses a member whose id is not a GUID, two ids joined by a comma included, and stages nothing of the page', async () => {
    const runId = await openRun();
    const [groupId, adele] = [randomUUID(), randomUUID()];
    for (const id of [`${randomUUID()},${randomUUID()}`, 'not-a-guid', '']) {
      await expect(stagePage(database.db, runId, groupId, [user(adele)], [{ id: adele, type: 'user', removed: false }, { id, type: 'user', removed: false }])).rejects.toThrow(/not a GUID/);
    }
    expect(await staged(runId)).toEqual([]);
    expect(await database.db.selectFrom('sync_staged_users').select('user_id').where('run_id', '=', runId).execute()).toEqual([]);
  });
});

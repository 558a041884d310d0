import { Migrator, sql, type Migration } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, migrations } from '../../db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('migrations', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase({ migrate: false });
  });
  afterAll(() => test.drop());

  it('apply to an empty database, then find nothing left to do', async () => {
    expect(await migrateToLatest(test.db)).toEqual(['0001_orgs_and_accounts', '0002_sessions_connections', '0003_group_selection', '0004_sync', '0005_delta_sync', '0006_directory_stats', '0007_nested_group_edges', '0008_tenant_ownership', '0009_preview_and_counts', '0010_bound_decisions', '0011_staged_user_rules', '0012_directory_api', '0013_directory_events', '0014_webhooks', '0015_bulk_membership_events', '0016_bulk_load_costs', '0017_one_org_transactions']);
    const tables = await test.db.introspection.getTables();
    expect(tables.map((table) => table.name).sort()).toEqual([
      'accounts',
      'api_keys',
      'consent_requests',
      'directory_domains',
      'directory_events',
      'directory_events_horizon',
      'directory_groups',
      'directory_users',
      'entra_connections',
      'entra_groups',
      'group_edges',
      'group_memberships',
      'org_memberships',
      'orgs',
      'pending_removals',
      'preview_members',
      'preview_samples',
      'sessions',
      'sign_in_failures',
      'sync_run_groups',
      'sync_runs',
      'sync_staged_members',
      'sync_staged_users',
      'synced_groups',
      'webhook_endpoints',
    ]);
    expect(await migrateToLatest(test.db)).toEqual([]);
  });

  it('give orgs, accounts and memberships their rules', async () => {
    const org = await test.db.insertInto('orgs').values({ slug: 'acme', name: 'Acme' }).returning('id').executeTakeFirstOrThrow();
    const account = await test.db
      .insertInto('accounts')
      .values({ email: 'Ada@Acme.test', display_name: 'Ada', password_hash: 'x' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await test.db.insertInto('org_memberships').values({ org_id: org.id, account_id: account.id, role: 'admin' }).execute();

    // One account per email, whatever its case.
    await expect(
      test.db.insertInto('accounts').values({ email: 'ada@acme.test', display_name: 'Ada 2', password_hash: 'x' }).execute(),
    ).rejects.toThrow(/accounts_email_unique/);
    // Roles are admin or member, nothing else.
    const other = await test.db
      .insertInto('accounts')
      .values({ email: 'bob@acme.test', display_name: 'Bob', password_hash: 'x' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await expect(
      sql`insert into org_memberships (org_id, account_id, role) values (${org.id}, ${other.id}, 'owner')`.execute(test.db),
    ).rejects.toThrow(/org_memberships_role/);
    await expect(test.db.insertInto('orgs').values({ slug: 'Not A Slug', name: 'x' }).execute()).rejects.toThrow(
      /orgs_slug_format/,
    );
    // Deleting an org removes its memberships, never the accounts (they may belong to other orgs).
    await test.db.deleteFrom('orgs').where('id', '=', org.id).execute();
    expect(await test.db.selectFrom('org_memberships').selectAll().execute()).toEqual([]);
    expect(await test.db.selectFrom('accounts').select('email').orderBy('email').execute()).toEqual([
      { email: 'Ada@Acme.test' },
      { email: 'bob@acme.test' },
    ]);
  });
});

describe('migration 0011 (the staging rules move to TypeScript)', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase({ migrate: false });
  });
  afterAll(() => test.drop());

  it('gives rows staged before it the values the commit used to compute, then requires them', async () => {
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0011'));
    const migrator = (migrations: Record<string, Migration>) => new Migrator({ db: test.db, provider: { getMigrations: () => Promise.resolve(migrations) } });
    expect((await migrator(before).migrateToLatest()).error).toBeUndefined();
    const runId = '00000000-0000-4000-8000-000000000001';
    await sql`insert into sync_staged_users (run_id, user_id, display_name, mail, user_principal_name, user_type, account_enabled, is_guest) values
      (${runId}, '00000000-0000-4000-8000-000000000002', 'Shared', 'Info@Contoso.COM', 'info@contoso.onmicrosoft.com', 'Member', false, false),
      (${runId}, '00000000-0000-4000-8000-000000000003', 'Nobody', null, null, 'Member', true, false)`.execute(test.db);
    expect((await migrator(migrations).migrateToLatest()).error).toBeUndefined();
    const rows = await sql<{ is_shared_mailbox: boolean; email_domain: string }>`select is_shared_mailbox, email_domain from sync_staged_users order by user_id`.execute(test.db);
    expect(rows.rows).toEqual([{ is_shared_mailbox: true, email_domain: 'contoso.com' }, { is_shared_mailbox: false, email_domain: '' }]);
    // A worker from before the migration stages without the columns: refused, and Temporal retries it on a current one.
    await expect(sql`insert into sync_staged_users (run_id, user_id, is_guest) values (${runId}, '00000000-0000-4000-8000-000000000004', false)`.execute(test.db)).rejects.toThrow(/null value/);
  });
});

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('migrations', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase({ migrate: false });
  });
  afterAll(() => test.drop());

  it('apply to an empty database, then find nothing left to do', async () => {
    expect(await migrateToLatest(test.db)).toEqual(['0001_orgs_and_accounts', '0002_sessions_connections', '0003_group_selection', '0004_sync', '0005_delta_sync', '0006_directory_stats', '0007_nested_group_edges', '0008_tenant_ownership', '0009_preview_and_counts', '0010_bound_decisions']);
    const tables = await test.db.introspection.getTables();
    expect(tables.map((table) => table.name).sort()).toEqual([
      'accounts',
      'consent_requests',
      'directory_domains',
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

import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** The tables as the application sees them. Migrations in db/migrations/ are the source of truth. */
export interface Database {
  orgs: OrgsTable;
  accounts: AccountsTable;
  org_memberships: OrgMembershipsTable;
}

type CreatedAt = ColumnType<Date, Date | undefined, never>;

export interface OrgsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  created_at: CreatedAt;
}

export interface AccountsTable {
  id: Generated<string>;
  email: string;
  display_name: string;
  password_hash: string;
  created_at: CreatedAt;
}

export type OrgRole = 'admin' | 'member';

export interface OrgMembershipsTable {
  org_id: string;
  account_id: string;
  role: OrgRole;
  created_at: CreatedAt;
}

export type Org = Selectable<OrgsTable>;
export type NewOrg = Insertable<OrgsTable>;
export type Account = Selectable<AccountsTable>;

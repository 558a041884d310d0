import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

// Orgs, accounts, their memberships, sessions and the sign-in throttle.
export type CreatedAt = ColumnType<Date, Date | undefined, never>;

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

export interface Flash {
  kind: 'success' | 'error';
  title: string;
  message?: string;
  hint?: string;
}

export interface SessionsTable {
  id_hash: string;
  account_id: string;
  current_org_id: string | null;
  flash: ColumnType<Flash | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  expires_at: Date;
}

export interface SignInFailuresTable {
  id: Generated<string>;
  email: string;
  address: string;
  at: ColumnType<Date, Date | undefined, never>;
}

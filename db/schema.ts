import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** The tables as the application sees them. Migrations in db/migrations/ are the source of truth. */
export interface Database {
  orgs: OrgsTable;
  accounts: AccountsTable;
  org_memberships: OrgMembershipsTable;
  sessions: SessionsTable;
  sign_in_failures: SignInFailuresTable;
  entra_connections: EntraConnectionsTable;
  consent_requests: ConsentRequestsTable;
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

export interface VerifiedDomain {
  name: string;
  isDefault: boolean;
  isInitial: boolean;
}

export type ConnectionStatus = 'connected' | 'needs_reconnect' | 'disconnected';

export interface EntraConnectionsTable {
  id: Generated<string>;
  org_id: string;
  tenant_id: string;
  tenant_name: string;
  verified_domains: ColumnType<VerifiedDomain[], string | undefined, string>;
  status: ColumnType<ConnectionStatus, ConnectionStatus | undefined, ConnectionStatus>;
  connected_at: ColumnType<Date, Date | undefined, Date>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ConsentRequestsTable {
  state_hash: string;
  session_hash: string;
  org_id: string;
  workflow_id: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
}

export type EntraConnection = Selectable<EntraConnectionsTable>;

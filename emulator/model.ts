import { z } from 'zod';
import { DELTA_EXPIRED_ANSWERS } from './faults.js';

/**
 * The emulator's world in JSON, with Graph's property names: applications registered by
 * vendors (Hook among them) and tenants with their users, groups, consent state and settings.
 * See emulator/README.md for the format and emulator/tenants/ for examples.
 */

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a GUID');

export const GRAPH_APP_ROLES = [
  'Directory.Read.All',
  'Group.Read.All',
  'GroupMember.Read.All',
  'Member.Read.Hidden',
  'Organization.Read.All',
  'User.Read.All',
] as const;
export type AppRole = (typeof GRAPH_APP_ROLES)[number];
const appRole = z.enum(GRAPH_APP_ROLES, { error: `one of ${GRAPH_APP_ROLES.join(', ')}` });

/**
 * Built-in directory roles by display name, with Microsoft's role template ids (the values of
 * the `wids` claim): https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference
 */
export const DIRECTORY_ROLE_TEMPLATES = {
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
  'Privileged Role Administrator': 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  'Cloud Application Administrator': '158c047a-c907-4556-b7ef-446551a6b5f7',
  'Application Administrator': '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
  'User Administrator': 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  'Groups Administrator': 'fdd7a751-b60b-444a-984c-02652fe8fa1c',
  'Global Reader': 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  'Helpdesk Administrator': '729827e3-9c14-49f7-bb1b-9608f156bbb8',
} as const;
export type DirectoryRole = keyof typeof DIRECTORY_ROLE_TEMPLATES;
const DIRECTORY_ROLES = Object.keys(DIRECTORY_ROLE_TEMPLATES) as [DirectoryRole, ...DirectoryRole[]];

export const applicationSchema = z.object({
  appId: guid,
  displayName: z.string().min(1),
  /** Client secrets the token endpoint accepts. */
  secrets: z.array(z.string().min(8)).min(1),
  redirectUris: z.array(z.url()).default([]),
  /** The application permissions on Microsoft Graph the app asks for (requiredResourceAccess). */
  requiredAppRoles: z.array(appRole).default([]),
  /**
   * The manifest's groupMembershipClaims: with DirectoryRole or All, id and access tokens carry
   * the signed-in user's directory roles as `wids`.
   */
  groupMembershipClaims: z.enum(['None', 'SecurityGroup', 'DirectoryRole', 'ApplicationGroup', 'All']).nullable().default(null),
});

export const userSchema = z.object({
  id: guid,
  displayName: z.string().nullable(),
  userPrincipalName: z.string().min(3),
  mail: z.string().nullable().default(null),
  givenName: z.string().nullable().default(null),
  surname: z.string().nullable().default(null),
  jobTitle: z.string().nullable().default(null),
  department: z.string().nullable().default(null),
  officeLocation: z.string().nullable().default(null),
  mobilePhone: z.string().nullable().default(null),
  businessPhones: z.array(z.string()).default([]),
  preferredLanguage: z.string().nullable().default(null),
  userType: z.enum(['Member', 'Guest']).default('Member'),
  accountEnabled: z.boolean().default(true),
  creationType: z.string().nullable().default(null),
  externalUserState: z.enum(['PendingAcceptance', 'Accepted']).nullable().default(null),
  /** Directory roles assigned to the user (active assignments: what `wids` lists). Not a Graph property of users. */
  directoryRoles: z.array(z.enum(DIRECTORY_ROLES, { error: `one of ${DIRECTORY_ROLES.join(', ')}` })).default([]),
});

export const groupSchema = z.object({
  id: guid,
  displayName: z.string().min(1),
  description: z.string().nullable().default(null),
  groupTypes: z.array(z.string()).default([]),
  mailEnabled: z.boolean(),
  securityEnabled: z.boolean(),
  mail: z.string().nullable().default(null),
  mailNickname: z.string().nullable().default(null),
  visibility: z.enum(['Public', 'Private', 'HiddenMembership']).nullable().default(null),
  createdDateTime: z.iso.datetime().optional(),
  /** Direct members: ids of users, groups, devices or org contacts of the same tenant. */
  members: z.array(guid).default([]),
});

export const deviceSchema = z.object({ id: guid, displayName: z.string(), deviceId: guid.optional() });
export const orgContactSchema = z.object({ id: guid, displayName: z.string(), mail: z.string().nullable().default(null) });

export const servicePrincipalSchema = z.object({
  appId: guid,
  /** Application permissions an admin granted; [] models "consented, then roles removed". */
  appRoles: z.array(appRole),
});

export const tenantSchema = z.object({
  id: guid,
  displayName: z.string().min(1),
  verifiedDomains: z
    .array(
      z.object({
        name: z.string().min(3),
        isDefault: z.boolean().default(false),
        isInitial: z.boolean().default(false),
        type: z.string().default('Managed'),
        capabilities: z.string().default('Email, OfficeCommunicationsOnline'),
      }),
    )
    .min(1),
  settings: z
    .object({
      /** false: the account on the consent page is no admin and cannot grant tenant-wide consent. */
      canGrantTenantWideConsent: z.boolean().default(true),
      /** What members of a hidden-membership group look like without Member.Read.Hidden. */
      hiddenMembership: z.enum(['silent', 'forbidden']).default('silent'),
      /** false: users may not consent to apps themselves ("Do not allow user consent"); only admins can. */
      usersCanConsent: z.boolean().default(true),
      /**
       * How many `members@delta` one group object carries before the group is split into several
       * objects across pages. Microsoft states no number; a report of a 9,993-member group listed
       * 20 times (msgraph-sdk-dotnet#574) puts it near 500.
       */
      deltaMembersPerObject: z.number().int().min(1).default(500),
      /**
       * Replication lag: a user created less than this many seconds ago is not found by id, not
       * listed by `/users` or counted, and not yet in the users delta round, while the group
       * memberships that name it already show. 0 (the tidy edge of Graph's "eventual
       * consistency") unless a test or a world asks for lag.
       */
      replicationLagSeconds: z.number().min(0).max(600).default(0),
      /** This tenant's collections and delta rounds start with an empty page that has a nextLink (also a fault for all tenants). */
      emptyFirstPages: z.boolean().optional(),
      /** Delta rounds of this tenant list each user again, as it is now, after the others (Graph may return an object more than once; the later copy wins). */
      deltaRepeatsUsers: z.boolean().optional(),
      /** How this tenant refuses an expired delta token (else the faults' `deltaExpiredAnswer`). */
      deltaExpiredAnswer: z.enum(DELTA_EXPIRED_ANSWERS).optional(),
    })
    .default({ canGrantTenantWideConsent: true, hiddenMembership: 'silent', usersCanConsent: true, deltaMembersPerObject: 500, replicationLagSeconds: 0 }),
  /** Consent state: an app is installed in the tenant when it has a service principal here. */
  servicePrincipals: z.array(servicePrincipalSchema).default([]),
  users: z.array(userSchema).default([]),
  groups: z.array(groupSchema).default([]),
  devices: z.array(deviceSchema).default([]),
  orgContacts: z.array(orgContactSchema).default([]),
});

export const worldSchema = z.object({
  applications: z.array(applicationSchema).default([]),
  tenants: z.array(tenantSchema).default([]),
});

export type Application = z.infer<typeof applicationSchema>;
export type User = z.infer<typeof userSchema>;
export type Group = z.infer<typeof groupSchema>;
export type Device = z.infer<typeof deviceSchema>;
export type OrgContact = z.infer<typeof orgContactSchema>;
export type TenantInput = z.input<typeof tenantSchema>;
export type Tenant = z.infer<typeof tenantSchema>;
export type WorldInput = z.input<typeof worldSchema>;
export type World = z.infer<typeof worldSchema>;

export class WorldError extends Error {
  override name = 'WorldError';
}

/**
 * Parses and cross-checks a world. Errors name the entry, e.g.
 * `tenants[0] (Contoso).groups[3] (Sales).members[1]: 1234… is no user, group, device or contact of this tenant`.
 */
export function parseWorld(input: unknown): World {
  const parsed = worldSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new WorldError(`${describePath(input, issue.path)}: ${issue.message}`);
  }
  const world = parsed.data;
  const appIds = new Set<string>();
  world.applications.forEach((app, index) => {
    if (appIds.has(app.appId)) throw new WorldError(`applications[${index}] (${app.displayName}): duplicate appId ${app.appId}`);
    appIds.add(app.appId);
  });
  const tenantIds = new Set<string>();
  world.tenants.forEach((tenant, tenantIndex) => {
    const where = `tenants[${tenantIndex}] (${tenant.displayName})`;
    if (tenantIds.has(tenant.id)) throw new WorldError(`${where}: duplicate tenant id ${tenant.id}`);
    tenantIds.add(tenant.id);
    checkTenant(tenant, where);
  });
  return world;
}

export function parseTenant(input: unknown, where = 'tenant'): Tenant {
  const parsed = tenantSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new WorldError(`${where}${describePath(input, issue.path, '')}: ${issue.message}`);
  }
  checkTenant(parsed.data, where);
  return parsed.data;
}

function checkTenant(tenant: Tenant, where: string): void {
  const ids = new Map<string, string>();
  const claim = (id: string, what: string) => {
    const key = id.toLowerCase();
    if (ids.has(key)) throw new WorldError(`${where}.${what}: id ${id} is used twice in this tenant`);
    ids.set(key, what);
  };
  tenant.users.forEach((user, index) => claim(user.id, `users[${index}] (${user.userPrincipalName})`));
  tenant.groups.forEach((group, index) => claim(group.id, `groups[${index}] (${group.displayName})`));
  tenant.devices.forEach((device, index) => claim(device.id, `devices[${index}]`));
  tenant.orgContacts.forEach((contact, index) => claim(contact.id, `orgContacts[${index}]`));
  tenant.groups.forEach((group, groupIndex) => {
    group.members.forEach((member, memberIndex) => {
      if (!ids.has(member.toLowerCase())) {
        throw new WorldError(
          `${where}.groups[${groupIndex}] (${group.displayName}).members[${memberIndex}]: ${member} is no user, group, device or contact of this tenant`,
        );
      }
    });
  });
}

function describePath(input: unknown, path: PropertyKey[], prefix = ''): string {
  let text = prefix;
  let node: unknown = input;
  for (const key of path) {
    text += typeof key === 'number' ? `[${key}]` : `${text === '' ? '' : '.'}${String(key)}`;
    node = node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    if (typeof key === 'number' && node !== null && typeof node === 'object') {
      const label = (node as Record<string, unknown>).displayName ?? (node as Record<string, unknown>).userPrincipalName;
      if (typeof label === 'string') text += ` (${label})`;
    }
  }
  return text === '' ? '(root)' : text;
}

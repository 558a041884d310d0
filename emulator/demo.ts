import { ascii, stableId } from './ids.js';
import type { EntraSettings } from '../lib/entra-settings.js';
import type { AppRole, DirectoryRole, TenantInput, WorldInput } from './model.js';

/** The application permissions Hook asks for (README explains why each is needed). */
export const HOOK_APP_ROLES: AppRole[] = ['Organization.Read.All', 'GroupMember.Read.All', 'User.Read.All', 'Member.Read.Hidden'];

export const DEMO_APP_ID = stableId('hook', 'demo-application');
export const DEMO_APP_SECRET = 'emulator-demo-secret-not-for-production';
export const DEMO_TENANT_ID = stableId('tenant', 'northwind-outfitters');

export function hookApplication(redirectUris: string[], appId = DEMO_APP_ID, secret = DEMO_APP_SECRET): NonNullable<WorldInput['applications']>[number] {
  // groupMembershipClaims: DirectoryRole, as the README asks of Hook's registration: id_tokens carry `wids`.
  return { appId, displayName: 'Hook', secrets: [secret], redirectUris, requiredAppRoles: HOOK_APP_ROLES, groupMembershipClaims: 'DirectoryRole' };
}

/** How the app talks to a running emulator as Hook's demo app: only the hosts and trust differ from production. */
export function emulatorEntraSettings(httpsUrl: string, httpUrl: string | undefined): EntraSettings {
  return {
    clientId: DEMO_APP_ID,
    clientSecret: DEMO_APP_SECRET,
    loginOrigin: httpsUrl,
    graphOrigin: httpsUrl,
    graphResource: 'https://graph.microsoft.com',
    consentOrigin: httpUrl ?? httpsUrl,
    emulator: true,
  };
}

const PEOPLE: Array<[name: string, department: string, office: string, title: string]> = [
  ['Amelia Clarke', 'Executive', 'London', 'Chief Executive Officer'],
  ['Jonas Weber', 'Executive', 'Berlin', 'Chief Operating Officer'],
  ['Priya Raman', 'Engineering', 'London', 'VP Engineering'],
  ['Tomás Herrera', 'Engineering', 'London', 'Staff Engineer'],
  ['Lena Vogel', 'Engineering', 'Berlin', 'Backend Engineer'],
  ['Kwame Mensah', 'Engineering', 'London', 'Frontend Engineer'],
  ['Yuki Tanaka', 'Engineering', 'Berlin', 'Site Reliability Engineer'],
  ['Oskar Lindqvist', 'Engineering', 'Berlin', 'Engineering Manager'],
  ['Hana Novak', 'Engineering', 'London', 'QA Engineer'],
  ['Sofia Rossi', 'Sales', 'London', 'Head of Sales'],
  ['Daniel Okafor', 'Sales', 'London', 'Account Executive'],
  ['Marie Dubois', 'Sales', 'Berlin', 'Account Executive'],
  ['Lukas Schmidt', 'Sales', 'Berlin', 'Sales Development Rep'],
  ['Grace Liu', 'Sales', 'London', 'Solutions Engineer'],
  ['Farah Haddad', 'Marketing', 'London', 'Marketing Director'],
  ['Ben Carter', 'Marketing', 'London', 'Content Lead'],
  ['Ines Moreau', 'Marketing', 'Berlin', 'Events Manager'],
  ['Ravi Patel', 'Finance', 'London', 'Finance Director'],
  ['Eva Kowalska', 'Finance', 'Berlin', 'Accountant'],
  ['Noah Fischer', 'Finance', 'Berlin', 'Payroll Specialist'],
  ['Chloé Martin', 'People', 'London', 'Head of People'],
  ['Samuel Adeyemi', 'People', 'London', 'Recruiter'],
  ['Mia Hoffmann', 'People', 'Berlin', 'People Partner'],
  ['Olivia Brown', 'Support', 'London', 'Support Lead'],
  ['Ethan Walsh', 'Support', 'London', 'Support Engineer'],
  ['Zeynep Kaya', 'Support', 'Berlin', 'Support Engineer'],
];

const DOMAIN = 'northwind.example';

/** Who administers Northwind's directory: the sign-in page offers them first. */
export const DEMO_ADMIN_UPN = `yuki.tanaka@${DOMAIN}`;
export const DEMO_NON_ADMIN_UPN = `ben.carter@${DOMAIN}`;
const DIRECTORY_ROLES_OF: Record<string, DirectoryRole[]> = {
  'Yuki Tanaka': ['Global Administrator'],
  'Oskar Lindqvist': ['Application Administrator'],
  'Olivia Brown': ['Helpdesk Administrator'],
};

/**
 * Northwind Outfitters, the demo tenant `npm start` uses without a real Entra app: a believable
 * company with departments, offices and roles, a nested All Staff group, a guest, a shared
 * mailbox, a disabled former employee, a device, a mail contact and a hidden-membership board.
 */
export function demoTenant(servicePrincipals: TenantInput['servicePrincipals'] = []): TenantInput {
  const user = (name: string) => stableId('northwind', 'user', name);
  const users: NonNullable<TenantInput['users']> = PEOPLE.map(([name, department, office, title]) => {
    const [first, last] = name.split(' ') as [string, string];
    const local = `${ascii(first)}.${ascii(last)}`;
    return {
      id: user(name),
      displayName: name,
      givenName: first,
      surname: last,
      userPrincipalName: `${local}@${DOMAIN}`,
      mail: `${local}@${DOMAIN}`,
      jobTitle: title,
      department,
      officeLocation: office,
      directoryRoles: DIRECTORY_ROLES_OF[name] ?? [],
    };
  });
  users.push(
    {
      id: user('guest'),
      displayName: 'Alex Morgan (Contoso)',
      userPrincipalName: `alex.morgan_contoso.example#EXT#@northwindoutfitters.onmicrosoft.com`,
      mail: 'alex.morgan@contoso.example',
      userType: 'Guest',
      creationType: 'Invitation',
      externalUserState: 'Accepted',
    },
    {
      id: user('sales-mailbox'),
      displayName: 'Sales Inbox',
      userPrincipalName: `sales@${DOMAIN}`,
      mail: `sales@${DOMAIN}`,
      accountEnabled: false,
    },
    {
      id: user('former'),
      displayName: 'Peter Grant',
      givenName: 'Peter',
      surname: 'Grant',
      userPrincipalName: `peter.grant@${DOMAIN}`,
      mail: null,
      jobTitle: 'Backend Engineer (left)',
      department: 'Engineering',
      accountEnabled: false,
    },
  );

  const inDepartment = (department: string) => PEOPLE.filter((person) => person[1] === department).map(([name]) => user(name));
  const inOffice = (office: string) => PEOPLE.filter((person) => person[2] === office).map(([name]) => user(name));
  const group = (
    key: string,
    displayName: string,
    kind: 'security' | 'm365' | 'distribution',
    members: string[],
    extra: Partial<NonNullable<TenantInput['groups']>[number]> = {},
  ): NonNullable<TenantInput['groups']>[number] => ({
    id: stableId('northwind', 'group', key),
    displayName,
    description: extra.description ?? null,
    groupTypes: kind === 'm365' ? ['Unified'] : [],
    mailEnabled: kind !== 'security',
    securityEnabled: kind !== 'distribution',
    mail: kind === 'security' ? null : `${key}@${DOMAIN}`,
    mailNickname: key,
    visibility: kind === 'm365' ? 'Private' : null,
    members,
    ...extra,
  });
  const laptop = stableId('northwind', 'device', 'build-agent');
  const contact = stableId('northwind', 'contact', 'agency');
  const departments = [
    group('engineering', 'Engineering', 'security', [...inDepartment('Engineering'), user('former'), laptop]),
    group('sales', 'Sales', 'm365', [...inDepartment('Sales'), user('guest'), user('sales-mailbox')]),
    group('marketing', 'Marketing', 'm365', [...inDepartment('Marketing'), contact]),
    group('finance', 'Finance', 'security', inDepartment('Finance')),
    group('people', 'People & Culture', 'm365', inDepartment('People')),
    group('support', 'Customer Support', 'security', inDepartment('Support')),
  ];
  const groups = [
    group('all-staff', 'All Staff', 'security', [...inDepartment('Executive'), ...departments.map((department) => department.id)], {
      description: 'Everyone at Northwind: the department groups, nested',
    }),
    ...departments,
    group('london', 'London Office', 'distribution', inOffice('London')),
    group('berlin', 'Berlin Office', 'distribution', inOffice('Berlin')),
    group('managers', 'People Managers', 'security', ['Amelia Clarke', 'Jonas Weber', 'Priya Raman', 'Oskar Lindqvist', 'Sofia Rossi', 'Farah Haddad', 'Ravi Patel', 'Chloé Martin', 'Olivia Brown'].map(user)),
    group('board', 'Board of Directors', 'm365', ['Amelia Clarke', 'Jonas Weber', 'Ravi Patel'].map(user), {
      visibility: 'HiddenMembership',
      description: 'Membership hidden from non-members',
    }),
    group('new-joiners', 'New Joiners 2026', 'security', ['Kwame Mensah', 'Hana Novak', 'Lukas Schmidt', 'Zeynep Kaya'].map(user)),
  ];

  return {
    id: DEMO_TENANT_ID,
    displayName: 'Northwind Outfitters',
    verifiedDomains: [
      { name: DOMAIN, isDefault: true, isInitial: false },
      { name: 'northwindoutfitters.onmicrosoft.com', isDefault: false, isInitial: true },
    ],
    servicePrincipals,
    users,
    groups,
    devices: [{ id: laptop, displayName: 'BUILD-AGENT-07' }],
    orgContacts: [{ id: contact, displayName: 'Brightside Agency', mail: 'hello@brightside.example' }],
  };
}


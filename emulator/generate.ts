import { ascii, seededRandom, stableId } from './ids.js';
import type { TenantInput } from './model.js';

export interface GenerateOptions {
  seed: number;
  displayName: string;
  domain: string;
  users: number;
  groups: number;
  /** Average members a group draws from the user pool (groups overlap heavily). */
  membersPerGroup: number;
  /** Share of groups that also contain one or two other groups. */
  nestedShare: number;
  guestShare: number;
  disabledShare: number;
  sharedMailboxShare: number;
  /** Share of Microsoft 365 groups with hidden membership. */
  hiddenShare: number;
  /** Service principals (consent) to put in the tenant. */
  servicePrincipals?: TenantInput['servicePrincipals'];
}

export const LARGE_TENANT: Omit<GenerateOptions, 'servicePrincipals'> = {
  seed: 100_000,
  displayName: 'Fabrikam Global',
  domain: 'fabrikam.example',
  users: 100_000,
  groups: 1_000,
  membersPerGroup: 300,
  nestedShare: 0.05,
  guestShare: 0.03,
  disabledShare: 0.02,
  sharedMailboxShare: 0.005,
  hiddenShare: 0.02,
};

/** Three times the large tenant, the same shape (nesting, guests, disabled accounts, hidden groups): what the sync must scale to. */
export const HUGE_TENANT: Omit<GenerateOptions, 'servicePrincipals'> = {
  ...LARGE_TENANT,
  seed: 300_000,
  displayName: 'Contoso Worldwide',
  domain: 'contoso-worldwide.example',
  users: 300_000,
  groups: 3_000,
};

const FIRST = ['Ada', 'Ben', 'Chloé', 'Dmitri', 'Elif', 'Farah', 'Gustavo', 'Hana', 'Ivan', 'Jonas', 'Kwame', 'Lena', 'Mateo', 'Nia', 'Oskar', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tomás', 'Uma', 'Viktor', 'Wen', 'Ximena', 'Yusuf', 'Zoë'];
const LAST = ['Abara', 'Becker', 'Castillo', 'Dubois', 'Eriksen', 'Fischer', 'García', 'Hughes', 'Ito', 'Jensen', 'Kowalski', 'López', 'Müller', 'Nakamura', 'O’Brien', 'Patel', 'Quinn', 'Rossi', 'Schmidt', 'Tanaka', 'Ueda', 'Varga', 'Wójcik', 'Xu', 'Yilmaz', 'Zhang'];
const DEPARTMENTS = ['Engineering', 'Sales', 'Marketing', 'Finance', 'People', 'Support', 'Legal', 'Operations', 'Product', 'Security'];
const LOCATIONS = ['London', 'Berlin', 'New York', 'Singapore', 'São Paulo', 'Toronto', 'Sydney', 'Nairobi'];
const ROLES = ['Managers', 'Interns', 'Contractors', 'Team Leads', 'New Joiners', 'Executives'];

/** A deterministic tenant: the same options give the same users, groups and ids, run after run. */
export function generateTenant(options: GenerateOptions): TenantInput {
  const random = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const tenantId = stableId('tenant', options.seed, options.domain);

  const users: NonNullable<TenantInput['users']> = [];
  for (let i = 0; i < options.users; i++) {
    const id = stableId('user', options.seed, i);
    const first = pick(FIRST);
    const last = pick(LAST);
    const department = pick(DEPARTMENTS);
    const local = `${ascii(first)}.${ascii(last)}${i}`;
    const roll = random();
    if (roll < options.guestShare) {
      const external = `${local}@partner${i % 37}.example`;
      users.push({
        id,
        displayName: `${first} ${last} (Guest)`,
        userPrincipalName: `${external.replace('@', '_')}#EXT#@${options.domain.split('.')[0]}.onmicrosoft.com`,
        mail: external,
        userType: 'Guest',
        creationType: 'Invitation',
        externalUserState: 'Accepted',
        accountEnabled: true,
      });
    } else if (roll < options.guestShare + options.sharedMailboxShare) {
      users.push({
        id,
        displayName: `${department} shared mailbox ${i}`,
        userPrincipalName: `${department.toLowerCase()}-box${i}@${options.domain}`,
        mail: `${department.toLowerCase()}-box${i}@${options.domain}`,
        accountEnabled: false,
      });
    } else {
      users.push({
        id,
        displayName: `${first} ${last}`,
        givenName: first,
        surname: last,
        userPrincipalName: `${local}@${options.domain}`,
        mail: `${local}@${options.domain}`,
        jobTitle: `${department} specialist`,
        department,
        officeLocation: pick(LOCATIONS),
        accountEnabled: random() >= options.disabledShare,
      });
    }
  }

  const groups: NonNullable<TenantInput['groups']> = [];
  for (let g = 0; g < options.groups; g++) {
    const kindRoll = random();
    const kind = kindRoll < 0.5 ? 'security' : kindRoll < 0.85 ? 'm365' : 'distribution';
    const name = `${pick([...DEPARTMENTS, ...LOCATIONS, ...ROLES])} ${g}`;
    const nickname = `grp${g}`;
    const size = Math.max(1, Math.round(options.membersPerGroup * (0.5 + random())));
    // A window of the user list plus random picks: neighbouring groups overlap, as real ones do.
    const start = Math.floor(random() * options.users);
    const members = new Set<string>();
    for (let k = 0; k < size; k++) {
      const index = random() < 0.7 ? (start + k) % options.users : Math.floor(random() * options.users);
      members.add(users[index]!.id);
    }
    groups.push({
      id: stableId('group', options.seed, g),
      displayName: name,
      description: `${name} (${kind})`,
      groupTypes: kind === 'm365' ? ['Unified'] : [],
      mailEnabled: kind !== 'security',
      securityEnabled: kind !== 'distribution',
      mail: kind === 'security' ? null : `${nickname}@${options.domain}`,
      mailNickname: nickname,
      visibility: kind === 'm365' ? (random() < options.hiddenShare ? 'HiddenMembership' : 'Private') : null,
      members: [...members],
    });
  }
  // Nesting only points at later groups, so there are no cycles.
  for (let g = 0; g < groups.length - 2; g++) {
    if (random() < options.nestedShare) {
      const child = g + 1 + Math.floor(random() * Math.min(20, groups.length - g - 1));
      groups[g]!.members!.push(groups[child]!.id);
    }
  }

  return {
    id: tenantId,
    displayName: options.displayName,
    verifiedDomains: [
      { name: options.domain, isDefault: true, isInitial: false },
      { name: `${options.domain.split('.')[0]}.onmicrosoft.com`, isDefault: false, isInitial: true },
    ],
    servicePrincipals: options.servicePrincipals ?? [],
    users,
    groups,
  };
}


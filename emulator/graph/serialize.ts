import type { DirectoryObject } from '../directory.js';
import type { Group, User } from '../model.js';

export const USER_DEFAULT = [
  'businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone',
  'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id',
] as const;
// Returned only when asked for with $select, as on Graph.
const USER_SELECT_ONLY = ['accountEnabled', 'userType', 'creationType', 'externalUserState', 'department'] as const;
export const USER_PROPERTIES = new Set<string>([...USER_DEFAULT, ...USER_SELECT_ONLY]);

export const GROUP_DEFAULT = [
  'id', 'deletedDateTime', 'classification', 'createdDateTime', 'description', 'displayName',
  'expirationDateTime', 'groupTypes', 'isAssignableToRole', 'mail', 'mailEnabled', 'mailNickname',
  'membershipRule', 'membershipRuleProcessingState', 'onPremisesLastSyncDateTime',
  'onPremisesSecurityIdentifier', 'onPremisesSyncEnabled', 'preferredDataLocation', 'preferredLanguage',
  'proxyAddresses', 'renewedDateTime', 'resourceBehaviorOptions', 'resourceProvisioningOptions',
  'securityEnabled', 'theme', 'visibility', 'onPremisesProvisioningErrors',
] as const;
export const GROUP_PROPERTIES = new Set<string>(GROUP_DEFAULT);
const DEVICE_PROPERTIES = ['id', 'deletedDateTime', 'accountEnabled', 'deviceId', 'displayName', 'operatingSystem'];
const CONTACT_PROPERTIES = ['id', 'deletedDateTime', 'displayName', 'mail', 'givenName', 'surname', 'companyName'];
export const DIRECTORY_OBJECT_PROPERTIES = new Set<string>([
  ...USER_PROPERTIES, ...GROUP_PROPERTIES, ...DEVICE_PROPERTIES, ...CONTACT_PROPERTIES,
]);

const ODATA_TYPE = {
  user: '#microsoft.graph.user',
  group: '#microsoft.graph.group',
  device: '#microsoft.graph.device',
  orgContact: '#microsoft.graph.orgContact',
} as const;

export function userJson(user: User, select?: string[]): Record<string, unknown> {
  return pick(user, select ?? USER_DEFAULT);
}

export function groupJson(group: Group, select?: string[]): Record<string, unknown> {
  const full: Record<string, unknown> = {
    ...group,
    deletedDateTime: null,
    classification: null,
    createdDateTime: group.createdDateTime ?? '2024-01-15T09:00:00Z',
    expirationDateTime: null,
    isAssignableToRole: null,
    membershipRule: null,
    membershipRuleProcessingState: null,
    onPremisesLastSyncDateTime: null,
    onPremisesSecurityIdentifier: null,
    onPremisesSyncEnabled: null,
    preferredDataLocation: null,
    preferredLanguage: null,
    proxyAddresses: group.mail ? [`SMTP:${group.mail}`] : [],
    renewedDateTime: group.createdDateTime ?? '2024-01-15T09:00:00Z',
    resourceBehaviorOptions: [],
    resourceProvisioningOptions: [],
    theme: null,
    onPremisesProvisioningErrors: [],
  };
  return pick(full, select ?? GROUP_DEFAULT);
}

/**
 * A member as /members and /transitiveMembers list it: always with its @odata.type. Without
 * User.Read.All the "limited information" rule applies: users keep only type and id.
 */
export function memberJson(member: DirectoryObject, select: string[] | undefined, canReadUsers: boolean): Record<string, unknown> {
  const type = { '@odata.type': ODATA_TYPE[member.kind] };
  switch (member.kind) {
    case 'user': {
      const json = userJson(member.value, select);
      if (!canReadUsers) for (const key of Object.keys(json)) if (key !== 'id') json[key] = null;
      return { ...type, ...json };
    }
    case 'group':
      return { ...type, ...groupJson(member.value, select) };
    case 'device':
      return { ...type, ...pick({ deletedDateTime: null, accountEnabled: true, operatingSystem: 'Windows', ...member.value }, select ?? DEVICE_PROPERTIES) };
    case 'orgContact':
      return { ...type, ...pick({ deletedDateTime: null, ...member.value }, select ?? CONTACT_PROPERTIES) };
  }
}

function pick(source: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const key of keys) if (key in source) result[key] = source[key] ?? null;
  return result;
}

import type { Db } from '../../db/client.js';
import type { TenantDirectory } from '../../emulator/directory.js';

/**
 * What an uninterrupted sync of `groupIds` writes, straight from the emulator's directory (each
 * group's users, nested groups flattened), against what the connection holds: rows lost (expected,
 * missing) and rows extra (there, not expected). Duplicates cannot hide: rows are counted.
 */
export async function compareWithDirectory(db: Db, connectionId: string, tenant: TenantDirectory, groupIds: string[]) {
  const expectedMemberships = new Set<string>();
  for (const groupId of groupIds) {
    const group = tenant.groups.get(groupId);
    if (!group) continue;
    for (const member of tenant.transitiveMembers(group)) if (member.kind === 'user') expectedMemberships.add(`${groupId}/${member.value.id}`);
  }
  const expectedUsers = new Set([...expectedMemberships].map((key) => key.split('/')[1]!));
  const memberships = (await db.selectFrom('group_memberships').select(['group_id', 'user_id']).where('connection_id', '=', connectionId).execute()).map((row) => `${row.group_id}/${row.user_id}`);
  const users = (await db.selectFrom('directory_users').select('user_id').where('connection_id', '=', connectionId).where('removed_at', 'is', null).execute()).map((row) => row.user_id);
  const [haveMemberships, haveUsers] = [new Set(memberships), new Set(users)];
  const lost = [...[...expectedMemberships].filter((key) => !haveMemberships.has(key)), ...[...expectedUsers].filter((id) => !haveUsers.has(id))];
  const extra = [...memberships.filter((key) => !expectedMemberships.has(key)), ...users.filter((id) => !expectedUsers.has(id)), ...duplicates(memberships), ...duplicates(users)];
  return { lost: lost.length, extra: extra.length, memberships: memberships.length, users: users.length, expectedUsers: expectedUsers.size };
}

function duplicates(keys: string[]): string[] {
  const seen = new Set<string>();
  return keys.filter((key) => (seen.has(key) ? true : (seen.add(key), false)));
}

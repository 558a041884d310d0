import type { EntraClients } from './clients.js';

/** The roles in an app-only token (a JWT): what the admin consented to, as Graph will apply it. */
export function tokenRoles(token: string): string[] {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Whether Graph will show this tenant's hidden-membership groups' members to Hook. Without
 * Member.Read.Hidden, Graph withholds them silently (an empty list), which must never be read as
 * "no members": the group's visibility and this answer decide, not the count.
 */
export async function mayReadHiddenMembers(entra: EntraClients, tenantId: string): Promise<boolean> {
  return tokenRoles(await entra.token(tenantId)).includes('Member.Read.Hidden');
}

export const isHiddenMembership = (visibility: string | null | undefined) => (visibility ?? '').toLowerCase() === 'hiddenmembership';

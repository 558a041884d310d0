import { z } from 'zod';

/** The user properties the sync stores, as `$select` asks Graph for them. */
export const USER_SELECT = 'id,displayName,mail,userPrincipalName,userType,accountEnabled,creationType';

export const graphUserSchema = z.object({
  id: z.string(),
  displayName: z.string().nullable().optional(),
  mail: z.string().nullable().optional(),
  userPrincipalName: z.string().nullable().optional(),
  userType: z.string().nullable().optional(),
  accountEnabled: z.boolean().nullable().optional(),
  creationType: z.string().nullable().optional(),
});
export type GraphUser = z.infer<typeof graphUserSchema>;

/** A guest: userType Guest, or invited (a converted guest still shows its invitation origin). */
export function isGuest(user: GraphUser): boolean {
  return user.userType === 'Guest' || user.creationType === 'Invitation' || (user.userPrincipalName ?? '').includes('#EXT#');
}

/** A disabled account with a mailbox is most often a shared mailbox or a service account. */
export function isSharedMailbox(user: GraphUser): boolean {
  return user.accountEnabled === false && Boolean(user.mail);
}

/** The domain of the address Hook mails the user at (mail, else the UPN), lower-case; '' when neither has one. */
export function emailDomain(user: GraphUser): string {
  return ((user.mail || user.userPrincipalName || '').split('@')[1] ?? '').toLowerCase();
}

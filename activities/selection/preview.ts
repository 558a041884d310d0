import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { z } from 'zod';
import type { Db } from '../../db/client.js';
import { recordPreviewMembers, recordSample, storedVisibility } from '../../db/repositories/preview.js';
import type { SampledMember, SampleFlags } from '../../db/schema.js';
import { FailureType } from '../../workflows/failures.js';
import type { EntraClients } from '../graph/clients.js';
import { isHiddenMembership, mayReadHiddenMembers } from '../graph/token-roles.js';
import { graphUserSchema, isGuest, isSharedMailbox, USER_SELECT, type GraphUser } from '../graph/users.js';

const SAMPLE_SIZE = 10;
/** Graph's largest page of members: one request for most groups. */
const PREVIEW_PAGE = 999;

const samplePageSchema = z.object({ '@odata.count': z.number().optional(), value: z.array(graphUserSchema), '@odata.nextLink': z.string().optional() });

export function createPreviewActivities({ db, entra }: { db: Db; entra: EntraClients }) {
  return {
    /**
     * Reads a group's user members (nested groups' included) for the preview: every page, so the
     * sample can show the members worth a look first (guests, disabled accounts, possible shared
     * mailboxes, no mailbox) with their counts, and what saving changes can be counted exactly.
     * Ten members are kept for the page; the ids of all go to preview_members. A group Graph
     * refuses (403, 404), or a hidden-membership group Hook may not read, is recorded as failed
     * rather than retried: the preview says "Could not load members".
     */
    async sampleGroup(connectionId: string, previewId: string, tenantId: string, groupId: string): Promise<'ok' | 'failed'> {
      // Hidden membership Hook may not read: Graph would answer an empty list, not an error.
      if (isHiddenMembership(await storedVisibility(db, connectionId, groupId)) && !(await mayReadHiddenMembers(entra, tenantId))) {
        await recordSample(db, { connectionId, previewId, groupId, status: 'failed', total: null, members: [], error: FailureType.HiddenMembership });
        return 'failed';
      }
      const users: GraphUser[] = [];
      let total: number | undefined;
      try {
        let next: string | undefined;
        do {
          const link = next;
          const page = samplePageSchema.parse(
            await entra.call(tenantId, (graph) =>
              (link ? graph.api(link) : graph.api(`/groups/${groupId}/transitiveMembers/microsoft.graph.user`).query({ $count: 'true' }).select(USER_SELECT).top(PREVIEW_PAGE))
                .header('ConsistencyLevel', 'eventual')
                .get(),
            ),
          );
          total ??= page['@odata.count'];
          users.push(...page.value);
          next = page['@odata.nextLink'];
          heartbeat(); // the preview's deadline cancels what is still reading
        } while (next);
      } catch (error) {
        if (error instanceof ApplicationFailure && error.nonRetryable) {
          await recordSample(db, { connectionId, previewId, groupId, status: 'failed', total: null, members: [], error: error.type ?? 'failed' });
          return 'failed';
        }
        throw error;
      }
      const members = users.map(sampledMember);
      const flags: SampleFlags = {
        guests: members.filter((member) => member.guest).length,
        disabled: members.filter((member) => member.disabled).length,
        sharedMailboxes: members.filter((member) => member.sharedMailbox).length,
        noMailbox: members.filter((member) => member.noMailbox).length,
      };
      await db.transaction().execute(async (trx) => {
        await recordPreviewMembers(trx, { connectionId, previewId, groupId }, users.map((user) => user.id));
        await recordSample(trx, { connectionId, previewId, groupId, status: 'ok', total: total ?? members.length, members: flaggedFirst(members).slice(0, SAMPLE_SIZE), error: null, flags, complete: true });
      });
      return 'ok';
    },
  };
}

/** A member as the preview shows it, with what makes it worth a look. */
function sampledMember(user: GraphUser): SampledMember {
  return {
    id: user.id,
    displayName: user.displayName ?? null,
    email: user.mail ?? user.userPrincipalName ?? null,
    guest: isGuest(user),
    disabled: user.accountEnabled === false,
    sharedMailbox: isSharedMailbox(user),
    noMailbox: !user.mail,
  };
}

/** The help page's first instruction is to look for unexpected guests or service accounts: those come first. */
export function flaggedFirst(members: SampledMember[]): SampledMember[] {
  const flagged = (member: SampledMember) => member.guest || member.disabled || member.sharedMailbox || member.noMailbox === true;
  return [...members.filter(flagged), ...members.filter((member) => !flagged(member))];
}

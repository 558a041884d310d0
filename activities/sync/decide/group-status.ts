/**
 * What the Groups tab shows for each synced group after a commit: its name, type, count, when
 * it last synced and why not. Pure over the run's rows; db/repositories/sync/commit writes it.
 */
import type { GroupStatusRow } from '../../../db/repositories/sync/commit/group-status.js';

export interface RunOutcome {
  group_id: string;
  status: 'ok' | 'failed' | 'missing';
  display_name: string | null;
  group_type: string | null;
  error: string | null;
}

export const MISSING_GROUP = 'The group no longer exists in Entra.';

export function groupStatusUpdates(input: {
  syncedIds: string[];
  outcomes: Map<string, RunOutcome>;
  tree: Map<string, Set<string>>;
  held: Set<string>;
  missingSynced: Map<string, unknown>;
  /** Groups never synced before: they take the name Hook knows for them, if the run saw none. */
  fresh: Set<string>;
  knownNames: Map<string, string | null>;
  /** Member counts of the groups whose memberships this run recomputed. */
  counts: Map<string, number>;
}): GroupStatusRow[] {
  const { outcomes, tree, held, missingSynced, fresh, knownNames, counts } = input;
  return input.syncedIds.map((groupId) => {
    const outcome = outcomes.get(groupId);
    const failure = [...(tree.get(groupId) ?? [])].map((id) => outcomes.get(id)).find((row) => row?.status === 'failed');
    const missing = missingSynced.has(groupId);
    let error: string | null = null;
    if (missing) error = outcome?.error ?? MISSING_GROUP;
    else if (failure) error = failure.group_id === groupId ? failure.error : `A group inside it could not be read: ${failure.error ?? 'failed'}`;
    return {
      groupId,
      name: outcome?.display_name ?? (fresh.has(groupId) ? (knownNames.get(groupId) ?? null) : null),
      type: outcome?.group_type ?? null,
      count: counts.get(groupId) ?? null,
      ok: !held.has(groupId) && !missing,
      error,
      missing,
    };
  });
}

/**
 * Which synced groups a commit may trust: the rule that nobody is removed on the word of a group
 * that was not read. Pure functions over the run's rows, so each case is a unit test.
 */

export interface SyncedGroupRow {
  group_id: string;
  missing_since: Date | null;
  last_synced_at: Date | null;
}

export interface OutcomeRow {
  group_id: string;
  status: 'ok' | 'failed' | 'missing';
  replaced: boolean;
}

export interface Clearing {
  /** Synced groups deleted in Entra, with the time they went missing (null: this run). */
  missingSynced: Map<string, Date | null>;
  /** Groups read in full: their stored direct members are replaced by the run's. */
  replaced: string[];
  /** Groups whose direct members go: nested groups deleted, synced ones past their grace. */
  dropped: string[];
}

const graceOver = (missingSince: Date | null, now: Date, graceMs: number) => missingSince !== null && now.getTime() - missingSince.getTime() >= graceMs;

/**
 * A synced group deleted in Entra stays "missing" until it returns, whether or not a delta
 * mentions it again; its members stay for the grace period, nested groups' go at once.
 */
export function groupsToClear(input: { synced: SyncedGroupRow[]; outcomes: Map<string, OutcomeRow>; delta: boolean; now: Date; missingGraceMs: number }): Clearing {
  const { synced, outcomes, delta, now, missingGraceMs } = input;
  const missingSynced = new Map(
    synced.flatMap((group) => (outcomes.get(group.group_id)?.status === 'missing' || (delta && group.missing_since !== null && !outcomes.has(group.group_id)) ? [[group.group_id, group.missing_since] as const] : [])),
  );
  const rows = [...outcomes.values()];
  return {
    missingSynced,
    replaced: rows.filter((row) => row.replaced && row.status === 'ok').map((row) => row.group_id),
    dropped: [
      ...rows.filter((row) => row.status === 'missing' && !missingSynced.has(row.group_id)).map((row) => row.group_id),
      ...[...missingSynced].filter(([, since]) => graceOver(since, now, missingGraceMs)).map(([groupId]) => groupId),
    ],
  };
}

/**
 * A synced group is trusted when every group inside it (itself included) was read this run — a
 * full run must have read each, a delta run knows the unchanged ones from before — and none
 * failed. A deleted synced group is held through its grace period, then trusted as empty.
 */
export function trustedGroups(input: {
  syncedIds: string[];
  tree: Map<string, Set<string>>;
  outcomes: Map<string, OutcomeRow>;
  missingSynced: Map<string, Date | null>;
  knownGroups: Set<string>;
  delta: boolean;
  now: Date;
  missingGraceMs: number;
}): { held: Set<string>; trusted: string[] } {
  const { syncedIds, tree, outcomes, missingSynced, knownGroups, delta, now, missingGraceMs } = input;
  const readOk = (groupId: string) => {
    const outcome = outcomes.get(groupId);
    if (outcome) return outcome.status === 'ok' || (outcome.status === 'missing' && !missingSynced.has(groupId));
    return delta && knownGroups.has(groupId);
  };
  const held = new Set(
    syncedIds.filter((root) => {
      if (missingSynced.has(root)) return !graceOver(missingSynced.get(root) ?? null, now, missingGraceMs);
      return [...(tree.get(root) ?? [root])].some((groupId) => !readOk(groupId));
    }),
  );
  return { held, trusted: syncedIds.filter((root) => !held.has(root)) };
}

/**
 * Who a commit removes, and whether the mass-deletion guard holds them back. Pure: the commit
 * hands in the candidates and the counts, and writes what this decides.
 */

export interface RemovalInput {
  /** Active users in no synced group after this run. */
  candidates: string[];
  /** Synced groups not trusted this run: while any is held, nobody is removed. */
  heldGroups: number;
  /** Members of groups the admin unsynced: the preview showed them and the admin saved. */
  leftWithUnsyncedGroup: Set<string>;
  /** The held set an admin confirmed, if it is still the one held; else empty. */
  confirmed: Set<string>;
  /** The cycle applies a confirmation: anything beyond the confirmed set waits for its own. */
  applyingConfirmation: boolean;
  /** Carried by runs from before confirmations named their set: remove everything. */
  confirmAll: boolean;
  activeUsers: number;
  maxRemovalShare: number;
}

export interface RemovalDecision {
  remove: string[];
  /** The set held for confirmation; `unchanged` keeps the one already held (this run cannot decide). */
  hold: string[] | 'unchanged';
  status: 'ok' | 'partial' | 'awaiting_confirmation';
}

export function decideRemovals(input: RemovalInput): RemovalDecision {
  if (input.heldGroups > 0) return { remove: [], hold: 'unchanged', status: 'partial' };
  const byAdmin = input.candidates.filter((id) => input.leftWithUnsyncedGroup.has(id));
  const byEntra = input.candidates.filter((id) => !input.leftWithUnsyncedGroup.has(id));
  // What an admin confirmed goes; of the rest, the guard questions what changed in Entra (the
  // admin's own unsync goes through: it was seen and saved in the preview).
  const confirmed = byEntra.filter((id) => input.confirmed.has(id));
  const unconfirmed = byEntra.filter((id) => !input.confirmed.has(id));
  const share = unconfirmed.length / Math.max(1, input.activeUsers);
  const hold = unconfirmed.length > 0 && (input.applyingConfirmation || share > input.maxRemovalShare) && !input.confirmAll;
  return {
    remove: [...byAdmin, ...confirmed, ...(hold ? [] : unconfirmed)],
    hold: hold ? unconfirmed : [],
    status: hold ? 'awaiting_confirmation' : 'ok',
  };
}

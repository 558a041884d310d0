import { describe, expect, it } from 'vitest';
import { decideRemovals, type RemovalInput } from '../../../activities/sync/decide/removals.js';

const base: RemovalInput = {
  candidates: [],
  heldGroups: 0,
  leftWithUnsyncedGroup: new Set(),
  confirmed: new Set(),
  applyingConfirmation: false,
  confirmAll: false,
  activeUsers: 100,
  maxRemovalShare: 0.2,
};
const ids = (n: number, prefix = 'u') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('who a commit removes', () => {
  it('removes nobody while any synced group was not read, and keeps the held set as it is', () => {
    expect(decideRemovals({ ...base, candidates: ids(3), heldGroups: 1 })).toEqual({ remove: [], hold: 'unchanged', status: 'partial' });
  });

  it('removes up to the guard share at once, and holds a larger set whole', () => {
    expect(decideRemovals({ ...base, candidates: ids(20) })).toEqual({ remove: ids(20), hold: [], status: 'ok' });
    expect(decideRemovals({ ...base, candidates: ids(21) })).toEqual({ remove: [], hold: ids(21), status: 'awaiting_confirmation' });
  });

  it('lets the admin’s own unsync through the guard: the preview showed it and the admin saved', () => {
    const unsynced = ids(30, 'a');
    expect(decideRemovals({ ...base, candidates: unsynced, leftWithUnsyncedGroup: new Set(unsynced) })).toEqual({ remove: unsynced, hold: [], status: 'ok' });
  });

  it('removes only what was confirmed; anyone new in that cycle waits for a confirmation of its own', () => {
    const confirmed = ids(26);
    const decision = decideRemovals({ ...base, candidates: [...confirmed, ...ids(3, 'new')], confirmed: new Set(confirmed), applyingConfirmation: true });
    expect(decision).toEqual({ remove: confirmed, hold: ids(3, 'new'), status: 'awaiting_confirmation' });
  });

  it('a stale confirmation (the held set changed, so nothing matched) removes nobody, however few', () => {
    expect(decideRemovals({ ...base, candidates: ids(2), confirmed: new Set(), applyingConfirmation: true })).toEqual({ remove: [], hold: ids(2), status: 'awaiting_confirmation' });
  });

  it('with nobody to remove, clears the held set', () => {
    expect(decideRemovals(base)).toEqual({ remove: [], hold: [], status: 'ok' });
  });
});

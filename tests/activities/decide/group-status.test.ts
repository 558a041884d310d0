import { describe, expect, it } from 'vitest';
import { groupStatusUpdates, MISSING_GROUP, type RunOutcome } from '../../../activities/sync/decide/group-status.js';

const row = (group_id: string, status: RunOutcome['status'], extra: Partial<RunOutcome> = {}): [string, RunOutcome] => [group_id, { group_id, status, display_name: null, group_type: null, error: null, ...extra }];
const input = {
  tree: new Map([['sales', new Set(['sales', 'emea'])], ['board', new Set(['board'])]]),
  held: new Set<string>(),
  missingSynced: new Map<string, unknown>(),
  fresh: new Set<string>(),
  knownNames: new Map<string, string | null>(),
  counts: new Map<string, number>(),
};

describe('what the Groups tab shows after a commit', () => {
  it('names a group by what the run read and counts it only where memberships were recomputed', () => {
    const [sales] = groupStatusUpdates({ ...input, syncedIds: ['sales'], outcomes: new Map([row('sales', 'ok', { display_name: 'Sales', group_type: 'security' })]), counts: new Map([['sales', 0]]) });
    expect(sales).toEqual({ groupId: 'sales', name: 'Sales', type: 'security', count: 0, ok: true, error: null, missing: false });
    const [board] = groupStatusUpdates({ ...input, syncedIds: ['board'], outcomes: new Map() });
    expect([board?.name, board?.count, board?.ok]).toEqual([null, null, true]);
  });

  it('says which group inside a held one could not be read', () => {
    const [sales] = groupStatusUpdates({ ...input, syncedIds: ['sales'], held: new Set(['sales']), outcomes: new Map([row('sales', 'ok'), row('emea', 'failed', { error: 'Graph refused: 403' })]) });
    expect([sales?.ok, sales?.error]).toEqual([false, 'A group inside it could not be read: Graph refused: 403']);
  });

  it('a deleted group is marked missing with Entra’s reason; a group new to the selection takes the name Hook knows', () => {
    const [gone] = groupStatusUpdates({ ...input, syncedIds: ['board'], missingSynced: new Map([['board', null]]), outcomes: new Map() });
    expect([gone?.missing, gone?.ok, gone?.error]).toEqual([true, false, MISSING_GROUP]);
    const [fresh] = groupStatusUpdates({ ...input, syncedIds: ['board'], fresh: new Set(['board']), knownNames: new Map([['board', 'Board']]), outcomes: new Map() });
    expect(fresh?.name).toBe('Board');
  });
});

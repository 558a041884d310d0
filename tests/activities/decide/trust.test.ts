import { describe, expect, it } from 'vitest';
import { groupsToClear, trustedGroups, type OutcomeRow } from '../../../activities/sync/decide/trust.js';

const now = new Date('2026-12-02T12:00:00Z');
const day = 24 * 60 * 60 * 1000;
const grace = { now, missingGraceMs: 7 * day };
const outcome = (group_id: string, status: OutcomeRow['status'], replaced = status === 'ok'): [string, OutcomeRow] => [group_id, { group_id, status, replaced }];
const synced = (group_id: string, missing_since: Date | null = null) => ({ group_id, missing_since, last_synced_at: now });
const tree = (entries: Record<string, string[]>) => new Map(Object.entries(entries).map(([root, groups]) => [root, new Set([root, ...groups])]));

describe('which synced groups a commit trusts', () => {
  it('a full run trusts a group only when it and every group inside it were read', () => {
    const outcomes = new Map([outcome('sales', 'ok'), outcome('emea', 'failed'), outcome('board', 'ok')]);
    const result = trustedGroups({ syncedIds: ['sales', 'board'], tree: tree({ sales: ['emea'], board: [] }), outcomes, missingSynced: new Map(), knownGroups: new Set(), delta: false, ...grace });
    expect([[...result.held], result.trusted]).toEqual([['sales'], ['board']]);
  });

  it('a full run never trusts a group it did not read; a delta run trusts one it knows from before', () => {
    const input = { syncedIds: ['sales'], tree: tree({ sales: [] }), outcomes: new Map<string, OutcomeRow>(), missingSynced: new Map(), knownGroups: new Set(['sales']), ...grace };
    expect(trustedGroups({ ...input, delta: false }).trusted).toEqual([]);
    expect(trustedGroups({ ...input, delta: true }).trusted).toEqual(['sales']);
    expect(trustedGroups({ ...input, knownGroups: new Set(), delta: true }).trusted).toEqual([]);
  });

  it('a deleted synced group keeps its members through the grace period, then lets them go', () => {
    const fresh = groupsToClear({ synced: [synced('sales', null)], outcomes: new Map([outcome('sales', 'missing')]), delta: false, ...grace });
    expect([...fresh.missingSynced.keys(), fresh.dropped]).toEqual(['sales', []]);
    expect(trustedGroups({ syncedIds: ['sales'], tree: tree({ sales: [] }), outcomes: new Map([outcome('sales', 'missing')]), missingSynced: fresh.missingSynced, knownGroups: new Set(), delta: false, ...grace }).held).toEqual(new Set(['sales']));

    const past = groupsToClear({ synced: [synced('sales', new Date(now.getTime() - 8 * day))], outcomes: new Map(), delta: true, ...grace });
    expect(past.dropped).toEqual(['sales']);
    expect(trustedGroups({ syncedIds: ['sales'], tree: tree({ sales: [] }), outcomes: new Map(), missingSynced: past.missingSynced, knownGroups: new Set(), delta: true, ...grace }).trusted).toEqual(['sales']);
  });

  it('a deleted nested group drops its members at once and does not hold its parent', () => {
    const outcomes = new Map([outcome('sales', 'ok'), outcome('emea', 'missing')]);
    const clearing = groupsToClear({ synced: [synced('sales')], outcomes, delta: false, ...grace });
    expect([clearing.replaced, clearing.dropped]).toEqual([['sales'], ['emea']]);
    expect(trustedGroups({ syncedIds: ['sales'], tree: tree({ sales: ['emea'] }), outcomes, missingSynced: clearing.missingSynced, knownGroups: new Set(), delta: false, ...grace }).trusted).toEqual(['sales']);
  });

  it('only groups read in full replace their stored members (a delta rename does not)', () => {
    const outcomes = new Map([outcome('sales', 'ok', false), outcome('board', 'ok', true)]);
    expect(groupsToClear({ synced: [synced('sales'), synced('board')], outcomes, delta: true, ...grace }).replaced).toEqual(['board']);
  });
});

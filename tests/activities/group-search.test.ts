import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchGroupsByName } from '../../activities/graph/groups.js';
import { DEMO_APP_ID, DEMO_TENANT_ID, HOOK_APP_ROLES, demoTenant } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { microsoftClients, startTestEmulator } from '../support/emulator.js';

const NAMES = ['R&D Lab', 'C# Guild', 'C++ Core', "O'Brien's Team", 'Say "Hi" Club', '100% Remote', 'Équipe Montréal', '東京 Office', 'Plain Group'];

/** The picker's search sends the admin's text to Graph's $search: every character must arrive as typed. */
describe('group search with the characters people put in group names', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    const tenant = demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }]);
    tenant.groups = NAMES.map((displayName) => ({ id: stableId('search', displayName), displayName, mailEnabled: false, securityEnabled: true }));
    emulator = await startTestEmulator({ tenants: [tenant] });
  });
  afterAll(() => emulator.close());

  it.each([
    ['R&D', 'R&D Lab'],
    ['C#', 'C# Guild'],
    ['C++', 'C++ Core'],
    ["O'Brien", "O'Brien's Team"],
    ['Say "Hi"', 'Say "Hi" Club'],
    ['100%', '100% Remote'],
    ['Équipe', 'Équipe Montréal'],
    ['東京', '東京 Office'],
  ])('"%s" finds %s, and nothing else is smuggled into the query', async (query, expected) => {
    const { graph } = microsoftClients(emulator, DEMO_TENANT_ID);
    const since = emulator.log.lastSeq;
    const found = await searchGroupsByName(graph, query);
    expect(found.map((group) => group.displayName)).toContain(expected);
    expect(found.map((group) => group.displayName)).not.toContain('Plain Group');
    const sent = emulator.log.since(since).filter((entry) => entry.host === 'graph');
    expect(sent).toHaveLength(1);
  });

  it('cannot add Graph parameters: "x&$top=1&$filter=..." is searched for as text', async () => {
    const { graph } = microsoftClients(emulator, DEMO_TENANT_ID);
    await expect(searchGroupsByName(graph, 'Plain&$select=id')).resolves.toEqual([]);
    const found = await searchGroupsByName(graph, 'Plain#fragment');
    expect(found.map((group) => group.displayName)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { demoTenant } from '../../emulator/demo.js';
import { generateTenant, LARGE_TENANT } from '../../emulator/generate.js';
import { stableId } from '../../emulator/ids.js';
import { parseTenant, parseWorld, WorldError } from '../../emulator/model.js';

describe('tenant JSON', () => {
  it('names the entry that is wrong', () => {
    const tenant = demoTenant();
    expect(() => parseWorld({ tenants: [{ ...tenant, users: [{ ...tenant.users![0]!, id: 'not-a-guid' }] }] })).toThrow(
      new WorldError('tenants[0] (Northwind Outfitters).users[0] (Amelia Clarke).id: a GUID'),
    );
    expect(() => parseWorld({ tenants: [{ ...tenant, groups: [{ ...tenant.groups![0]!, mailEnabled: 'yes' }] }] })).toThrow(
      /^tenants\[0\] \(Northwind Outfitters\)\.groups\[0\] \(All Staff\)\.mailEnabled: /,
    );
    expect(() => parseWorld({ tenants: [tenant, tenant] })).toThrow(/tenants\[1\] \(Northwind Outfitters\): duplicate tenant id/);
    expect(() => parseTenant({ ...tenant, users: [...tenant.users!, tenant.users![0]!] })).toThrow(/is used twice in this tenant/);
  });

  it('the demo tenant has what the demo needs: guest, shared mailbox, disabled user, hidden group, nesting', () => {
    const tenant = parseTenant(demoTenant());
    expect(tenant.users.filter((user) => user.userType === 'Guest')).toHaveLength(1);
    expect(tenant.users.filter((user) => !user.accountEnabled && user.mail !== null)).toHaveLength(1);
    expect(tenant.users.filter((user) => !user.accountEnabled && user.mail === null)).toHaveLength(1);
    expect(tenant.groups.filter((group) => group.visibility === 'HiddenMembership')).toHaveLength(1);
    const groupIds = new Set(tenant.groups.map((group) => group.id));
    expect(tenant.groups.some((group) => group.members.some((id) => groupIds.has(id)))).toBe(true);
    const kinds = new Set(tenant.groups.map((group) => (group.groupTypes.includes('Unified') ? 'm365' : group.securityEnabled ? 'security' : 'distribution')));
    expect(kinds).toEqual(new Set(['m365', 'security', 'distribution']));
  });

  it('generates the same large tenant every time, with overlap, nesting, guests, disabled and hidden groups', () => {
    const options = { ...LARGE_TENANT, users: 20_000, groups: 200 };
    const tenant = parseTenant(generateTenant(options));
    expect(JSON.stringify(generateTenant(options).groups!.slice(0, 3))).toBe(JSON.stringify(tenant.groups.slice(0, 3)));
    expect(tenant.users).toHaveLength(20_000);
    expect(tenant.groups).toHaveLength(200);
    const memberships = tenant.groups.reduce((sum, group) => sum + group.members.length, 0);
    expect(memberships / tenant.groups.length).toBeGreaterThan(250);
    const inGroups = new Set(tenant.groups.flatMap((group) => group.members));
    expect(inGroups.size).toBeLessThan(memberships); // users appear in several groups
    expect(tenant.users.filter((user) => user.userType === 'Guest').length).toBeGreaterThan(300);
    expect(tenant.users.filter((user) => !user.accountEnabled).length).toBeGreaterThan(200);
    expect(tenant.groups.some((group) => group.visibility === 'HiddenMembership')).toBe(true);
    const groupIds = new Set(tenant.groups.map((group) => group.id));
    expect(tenant.groups.filter((group) => group.members.some((id) => groupIds.has(id))).length).toBeGreaterThan(3);
    expect(tenant.users[0]!.id).toBe(stableId('user', LARGE_TENANT.seed, 0));
  });
});

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TENANT_ID, demoTenant, hookApplication } from '../../emulator/demo.js';
import { stableId } from '../../emulator/ids.js';
import { parseWorld } from '../../emulator/model.js';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { trustCertificateAuthority } from '../../lib/trust.js';
import { appToken, call, startTestEmulator } from '../support/emulator.js';

const group = (key: string) => stableId('northwind', 'group', key);
const user = (name: string) => stableId('northwind', 'user', name);

describe('the emulator control API', () => {
  let emulator: RunningEmulator;
  let token: string;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    token = await appToken(emulator, DEMO_TENANT_ID);
  });
  afterAll(() => emulator.close());
  const control = (pathname: string, method: string, body?: unknown) => call(emulator, `/_emulator${pathname}`, { method, body });
  const memberIds = async (groupId: string) =>
    ((await call(emulator, `/v1.0/groups/${groupId}/members?$select=id&$top=999`, { token })).json.value as Array<{ id: string }>).map((m) => m.id);

  it('changes memberships, renames groups, disables users and deletes groups, as Graph then shows', async () => {
    const finance = group('finance');
    await control(`/tenants/${DEMO_TENANT_ID}/groups/${finance}/members`, 'POST', { add: [user('Sofia Rossi')], remove: [user('Eva Kowalska')] });
    const members = await memberIds(finance);
    expect(members).toContain(user('Sofia Rossi'));
    expect(members).not.toContain(user('Eva Kowalska'));

    await control(`/tenants/${DEMO_TENANT_ID}/groups/${finance}`, 'PATCH', { displayName: 'Finance & Legal' });
    expect((await call(emulator, `/v1.0/groups/${finance}?$select=displayName`, { token })).json.displayName).toBe('Finance & Legal');

    await control(`/tenants/${DEMO_TENANT_ID}/users/${user('Ravi Patel')}`, 'PATCH', { accountEnabled: false });
    const ravi = await call(emulator, `/v1.0/users/${user('Ravi Patel')}?$select=accountEnabled,mail,displayName,jobTitle,department`, { token });
    // A PATCH changes what it names and nothing else (disabling someone keeps their mail and names).
    expect(ravi.json).toMatchObject({ accountEnabled: false, mail: 'ravi.patel@northwind.example', displayName: 'Ravi Patel', jobTitle: 'Finance Director', department: 'Finance' });

    expect((await control(`/tenants/${DEMO_TENANT_ID}/groups/${group('london')}`, 'DELETE')).status).toBe(204);
    expect((await call(emulator, `/v1.0/groups/${group('london')}`, { token })).status).toBe(404);

    const changes = emulator.directory.findTenant(DEMO_TENANT_ID)!.changes.map((change) => `${change.objectType}:${change.change}`);
    expect(changes).toEqual(['group:membersAdded', 'group:membersRemoved', 'group:updated', 'user:updated', 'group:deleted']);
  });

  it('refuses bad input with a message and changes nothing', async () => {
    const before = (await memberIds(group('support'))).sort();
    const unknownMember = await control(`/tenants/${DEMO_TENANT_ID}/groups/${group('support')}/members`, 'POST', { add: [stableId('nobody')] });
    expect(unknownMember.status).toBe(404);
    const badField = await control(`/tenants/${DEMO_TENANT_ID}/users/${user('Ben Carter')}`, 'PATCH', { shoeSize: 44 });
    expect(badField.status).toBe(400);
    expect(badField.json.error).toMatch(/shoeSize/);
    const badFaults = await control('/faults', 'PATCH', { rate503: 2 });
    expect(badFaults.status).toBe(400);
    expect(badFaults.json.error).toMatch(/^rate503: /);
    expect((await control(`/tenants/${stableId('no tenant')}/groups/${group('support')}/members`, 'POST', { add: [] })).status).toBe(404);
    expect((await memberIds(group('support'))).sort()).toEqual(before);
    expect(emulator.faults.rate503).toBe(0);
  });

  it('reads the request log with status, resource units and time', async () => {
    const since = emulator.log.lastSeq;
    await call(emulator, `/v1.0/groups/${group('sales')}/transitiveMembers?$select=id`, { token });
    const log = await control(`/requests?since=${since}`, 'GET');
    expect(log.json).toEqual([
      expect.objectContaining({ host: 'graph', method: 'GET', status: 200, resourceUnits: 4, tenantId: DEMO_TENANT_ID, t: expect.any(Number) }),
    ]);
  });

  it('adds a tenant from JSON, and names the wrong entry when it is invalid', async () => {
    const tenant = { ...demoTenant(), id: stableId('added'), displayName: 'Added Inc', verifiedDomains: [{ name: 'added.example' }] };
    expect((await control('/tenants', 'POST', tenant)).status).toBe(201);
    const broken = { ...tenant, id: stableId('broken'), groups: [{ ...tenant.groups![1]!, members: [stableId('ghost')] }] };
    const refused = await control('/tenants', 'POST', broken);
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatch(/groups\[0\] \(Engineering\)\.members\[0\]: .* is no user, group, device or contact of this tenant/);
  });

  it('is not served unless the emulator was started for it', async () => {
    const closed = await startEmulator({
      world: parseWorld({ applications: [hookApplication([])], tenants: [demoTenant()] }),
      tlsDir: await mkdtemp(path.join(tmpdir(), 'hook-emulator-tls-')),
    });
    trustCertificateAuthority(closed.ca);
    try {
      expect((await call(closed, '/_emulator/faults', { method: 'PATCH', body: { rate503: 1 } })).status).toBe(404);
      expect(closed.faults.rate503).toBe(0);
    } finally {
      await closed.close();
    }
  });
});

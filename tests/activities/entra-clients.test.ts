import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEntraClients, reuseUntil } from '../../activities/graph/clients.js';
import { DEMO_TENANT_ID } from '../../emulator/demo.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { entraFor } from '../support/app.js';
import { startTestEmulator } from '../support/emulator.js';

describe('a token is kept as long as MSAL would hand out its cached copy', () => {
  it('until 300 s before it expires, or its refreshOn if that comes first', () => {
    const expiresOn = new Date(3_600_000);
    expect(reuseUntil({ expiresOn })).toBe(3_300_000);
    expect(reuseUntil({ expiresOn, refreshOn: new Date(1_800_000) })).toBe(1_800_000);
    expect(reuseUntil({ expiresOn, refreshOn: new Date(3_500_000) })).toBe(3_300_000);
    expect(reuseUntil({ expiresOn: null })).toBe(0);
  });
});

describe('the Entra clients ask Microsoft for tokens', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator.close());

  const organization = (entra: ReturnType<typeof createEntraClients>) => entra.call(DEMO_TENANT_ID, (graph) => graph.api('/organization').select('id').get() as Promise<{ value: unknown[] }>);
  const tokenRequests = (since: number) => emulator.log.since(since).filter((entry) => entry.host === 'login' && entry.path.endsWith('/token')).length;

  it('once for many requests while the token is far from expiring, and anew after Graph refuses it', async () => {
    emulator.tokens.lifetimeSeconds = 3599;
    const entra = createEntraClients(entraFor(emulator));
    const since = emulator.log.lastSeq;
    for (let request = 0; request < 20; request++) expect((await organization(entra)).value).toHaveLength(1);
    expect(tokenRequests(since)).toBe(1);

    // Keys rolled or consent granted again: the kept token dies before its time. Graph's 401 makes
    // the next ask go to Microsoft, and the request succeeds with the fresh token.
    emulator.tokens.revokeTenant(DEMO_TENANT_ID);
    const revoked = emulator.log.lastSeq;
    expect((await organization(entra)).value).toHaveLength(1);
    expect(emulator.log.since(revoked).filter((entry) => entry.host === 'graph').map((entry) => entry.status)).toEqual([401, 200]);
    expect(tokenRequests(revoked)).toBe(1);
    for (let request = 0; request < 5; request++) await organization(entra);
    expect(tokenRequests(revoked)).toBe(1);
  });

  it('for every ask when the token lives less than MSAL’s 300-second renewal window', async () => {
    emulator.tokens.lifetimeSeconds = 200;
    try {
      const entra = createEntraClients(entraFor(emulator));
      const since = emulator.log.lastSeq;
      for (let request = 0; request < 3; request++) await organization(entra);
      // Each request asks twice: once before the Graph client, once inside it.
      expect(tokenRequests(since)).toBe(6);
    } finally {
      emulator.tokens.lifetimeSeconds = 3599;
    }
  });
});

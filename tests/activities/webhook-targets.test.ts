import { randomUUID } from 'node:crypto';
import net, { type AddressInfo, type LookupFunction } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookActivities } from '../../activities/webhooks/index.js';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { createWebhookEndpoint } from '../../db/repositories/webhooks.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { testWebhookSecrets } from '../support/secrets.js';

/** A public address (example.com's), never reached here: the machine has no internet. */
const PUBLIC = '93.184.216.34';

/**
 * A hostile customer's webhook URL names a host whose DNS answers change (DNS rebinding): public
 * when Hook checks it, loopback a moment later when it connects. A service inside the network
 * listens on that loopback port; it must never see a connection from a delivery.
 */
describe('where a delivery may connect', () => {
  let database: TestDatabase;
  let inside: net.Server;
  let connections = 0;
  let orgId: string;
  let connectionId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    inside = net.createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => inside.listen(0, '127.0.0.1', resolve));
    orgId = await createOrgCommand(database.db, 'rebinding', 'Rebinding Inc');
    connectionId = await upsertConnection(database.db, { orgId, tenantId: randomUUID(), tenantName: 'Rebinding', verifiedDomains: [] });
  });
  afterEach(() => {
    connections = 0;
  });
  afterAll(async () => {
    await new Promise((resolve) => inside.close(resolve));
    await database.drop();
  });

  /** A resolver that gives each look-up of the name the next of these answers (the last one after that). */
  function dnsAnswering(...answers: string[]): { resolver: LookupFunction; lookups: () => number } {
    let calls = 0;
    const resolver: LookupFunction = (_host, options, callback) => {
      const address = answers[Math.min(calls, answers.length - 1)]!;
      calls += 1;
      if (options.all) callback(null, [{ address, family: 4 }]);
      else callback(null, address, 4);
    };
    return { resolver, lookups: () => calls };
  }

  /** One delivery attempt of an endpoint at this URL, with one event waiting; its failure message, if any. */
  async function deliver(url: string, deps: { resolver: LookupFunction; allowPrivateTargets?: boolean }): Promise<string | undefined> {
    const { id } = await createWebhookEndpoint(database.db, { orgId, url, eventTypes: [], createdBy: null }, testWebhookSecrets);
    await database.db.insertInto('directory_users').values({ connection_id: connectionId, user_id: randomUUID(), display_name: 'New' }).execute();
    const activities = createWebhookActivities({ db: database.db, timeoutMs: 2_000, secrets: testWebhookSecrets, ...deps });
    try {
      await new MockActivityEnvironment().run((endpointId: string) => activities.deliverPending(endpointId), id);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await database.db.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
    }
  }

  const port = () => (inside.address() as AddressInfo).port;

  it('a name that is public when checked and loopback when connected to gets no connection', async () => {
    const dns = dnsAnswering(PUBLIC, '127.0.0.1');
    const failure = await deliver(`https://hooks.rebinding.example:${port()}/directory`, { resolver: dns.resolver });
    expect(failure).toBe('The endpoint did not acknowledge the delivery: refused: hooks.rebinding.example resolves to a private or local address');
    expect(dns.lookups()).toBe(2); // checked, then looked up again for the connection: the answer it connected by was checked
    expect(connections).toBe(0);
  });

  it('a name that is loopback from the start is refused before any connection', async () => {
    const dns = dnsAnswering('127.0.0.1');
    const failure = await deliver(`https://hooks.rebinding.example:${port()}/directory`, { resolver: dns.resolver });
    expect(failure).toBe('The endpoint did not acknowledge the delivery: refused: hooks.rebinding.example resolves to a private or local address');
    expect(connections).toBe(0);
  });

  it('where private targets are allowed (development), the same name does connect: the service above was reachable', async () => {
    const dns = dnsAnswering('127.0.0.1');
    const failure = await deliver(`http://hooks.rebinding.example:${port()}/directory`, { resolver: dns.resolver, allowPrivateTargets: true });
    expect(failure).toBe('The endpoint did not acknowledge the delivery: no answer'); // the service hung up
    expect(connections).toBe(1);
  });
});

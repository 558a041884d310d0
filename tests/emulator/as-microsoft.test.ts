import { Client } from '@microsoft/microsoft-graph-client';
import { Agent, setGlobalDispatcher, getGlobalDispatcher } from 'undici';
import { rootCertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_APP_ID, DEMO_APP_SECRET, DEMO_TENANT_ID } from '../../emulator/demo.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { startTestEmulator } from '../support/emulator.js';

/**
 * With a hosts-file entry and its CA trusted, clients that know only Microsoft's host names reach
 * the emulator. The hosts file is played by a DNS lookup that maps both names to 127.0.0.1.
 */
describe('the emulator answering as login.microsoftonline.com and graph.microsoft.com', () => {
  let emulator: RunningEmulator;
  let port: number;
  const previous = getGlobalDispatcher();
  beforeAll(async () => {
    emulator = await startTestEmulator();
    port = Number(new URL(emulator.httpsUrl).port);
    setGlobalDispatcher(
      new Agent({
        connect: {
          ca: [...rootCertificates, emulator.ca],
          lookup: (hostname, options, callback) => {
            if (['login.microsoftonline.com', 'graph.microsoft.com'].includes(hostname)) {
              if ((options as { all?: boolean }).all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
              else callback(null, '127.0.0.1', 4);
            } else callback(new Error(`no route to ${hostname} in this test`), '', 4);
          },
        },
      }),
    );
  });
  afterAll(async () => {
    setGlobalDispatcher(previous);
    await emulator.close();
  });

  it('serves Microsoft’s host names with a certificate from the CA it wrote out', async () => {
    const response = await fetch(`https://login.microsoftonline.com:${port}/${DEMO_TENANT_ID}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: DEMO_APP_ID, client_secret: DEMO_APP_SECRET, scope: 'https://graph.microsoft.com/.default', grant_type: 'client_credentials' }),
    });
    const { access_token: token } = (await response.json()) as { access_token: string };

    // No customHosts: the Graph client attaches the token because the host is graph.microsoft.com.
    const graph = Client.initWithMiddleware({
      baseUrl: `https://graph.microsoft.com:${port}/`,
      authProvider: { getAccessToken: () => Promise.resolve(token) },
    });
    const organization = (await graph.api('/organization').get()) as { value: Array<{ displayName: string }> };
    expect(organization.value[0]!.displayName).toBe('Northwind Outfitters');
  });
});

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { Client } from '@microsoft/microsoft-graph-client';
import { DEMO_APP_ID, DEMO_APP_SECRET, demoTenant, hookApplication, HOOK_APP_ROLES } from '../../emulator/demo.js';
import { parseWorld, type TenantInput, type WorldInput } from '../../emulator/model.js';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { trustCertificateAuthority } from '../../lib/trust.js';

export const REDIRECT_URI = 'http://localhost:3000/org/settings/integrations/microsoft-entra/callback';

/** The emulator with Hook's demo app registered and the demo tenant consented, unless told otherwise. */
export async function startTestEmulator(
  options: { tenants?: TenantInput[]; applications?: WorldInput['applications']; tokenLifetimeSeconds?: number } = {},
): Promise<RunningEmulator> {
  const world = parseWorld({
    applications: options.applications ?? [hookApplication([REDIRECT_URI])],
    tenants: options.tenants ?? [demoTenant([{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }])],
  });
  const emulator = await startEmulator({
    world,
    tlsDir: await mkdtemp(path.join(tmpdir(), 'hook-emulator-tls-')),
    httpPort: 0,
    control: true,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds,
  });
  trustCertificateAuthority(emulator.ca);
  return emulator;
}

/** Microsoft's own clients, unmodified, pointed at the emulator the way the worker does it. */
export function microsoftClients(emulator: RunningEmulator, tenantId: string, secret = DEMO_APP_SECRET, appId = DEMO_APP_ID) {
  const host = new URL(emulator.httpsUrl).host;
  const msal = new ConfidentialClientApplication({
    auth: { clientId: appId, clientSecret: secret, authority: `${emulator.httpsUrl}/${tenantId}`, knownAuthorities: [host] },
  });
  const token = async () => {
    const result = await msal.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
    if (!result) throw new Error('no token');
    return result.accessToken;
  };
  const graph = Client.initWithMiddleware({
    baseUrl: `${emulator.httpsUrl}/`,
    customHosts: new Set([new URL(emulator.httpsUrl).hostname]),
    authProvider: { getAccessToken: token },
  });
  return { msal, token, graph };
}

/** A raw request to the emulator's https origin. */
export async function call(
  emulator: Pick<RunningEmulator, 'httpsUrl'>,
  pathAndQuery: string,
  init: { token?: string; headers?: Record<string, string>; method?: string; body?: unknown; form?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.Authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (init.form !== undefined) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  } else if (init.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  const response = await fetch(`${emulator.httpsUrl}${pathAndQuery}`, { method: init.method ?? 'GET', headers, body, redirect: 'manual' });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, headers: response.headers, type, text, json: type.includes('json') && text !== '' ? (JSON.parse(text)) : undefined };
}

/**
 * An app-only token for Hook's demo app in a tenant, straight from the token endpoint (of an
 * emulator in this process or in its own); an error saying why when there is none.
 */
export async function appToken(emulator: Pick<RunningEmulator, 'httpsUrl'>, tenantId: string): Promise<string> {
  const response = await call(emulator, `/${tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    form: { client_id: DEMO_APP_ID, client_secret: DEMO_APP_SECRET, scope: 'https://graph.microsoft.com/.default', grant_type: 'client_credentials' },
  });
  const token = (response.json as { access_token?: string } | undefined)?.access_token;
  if (token === undefined) throw new Error(`the emulator gave no token for tenant ${tenantId} (${response.status}): ${response.text.slice(0, 200)}`);
  return token;
}

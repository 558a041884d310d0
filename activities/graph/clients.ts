import { ConfidentialClientApplication } from '@azure/msal-node';
import { AuthenticationHandler, Client, GraphError, HTTPMessageHandler, RedirectHandler, RedirectHandlerOptions, RetryHandler, RetryHandlerOptions, TelemetryHandler } from '@microsoft/microsoft-graph-client';
import type { EntraSettings } from '../../lib/entra-settings.js';
import { GraphResponseCounter } from '../metrics.js';
import { classifyEntraError } from './errors.js';
import { PacingHandler, TenantPacer } from './pacing.js';

export const GRAPH_MAX_RETRIES = 10; // the SDK's ceiling

// MSAL knows these sign-in hosts' metadata; any other host (the emulator, a proxy) must be
// declared, or MSAL would ask the public cloud to discover it.
export const MICROSOFT_LOGIN_HOSTS = ['login.microsoftonline.com', 'login.microsoftonline.us', 'login.chinacloudapi.cn', 'login.partner.microsoftonline.cn'];

/**
 * Graph requests for one tenant, each classified on its own: a 401 retry repeats that request
 * only, and the database work between requests never passes through the Graph classifier.
 */
export type TenantGraph = <T>(request: (graph: Client) => Promise<T>) => Promise<T>;

export const tenantGraph = (entra: EntraClients, tenantId: string): TenantGraph => (request) => entra.call(tenantId, request);

export interface EntraClients {
  settings: EntraSettings;
  /** An app-only token for the tenant (client credentials; MSAL caches and renews it). */
  token: (tenantId: string) => Promise<string>;
  /** A Graph client for the tenant: retries 429/503/504 after Retry-After, pages, batches. */
  graph: (tenantId: string) => Client;
  /**
   * Runs Graph calls for a tenant with every failure classified (activities/graph/errors.ts).
   * The token comes first, on its own: inside the Graph client a token error would be wrapped
   * into an anonymous GraphError and lose its AADSTS code.
   */
  call: <T>(tenantId: string, work: (graph: Client) => Promise<T>) => Promise<T>;
}

export function createEntraClients(settings: EntraSettings): EntraClients {
  const apps = new Map<string, ConfidentialClientApplication>();
  const loginHost = new URL(settings.loginOrigin).host;
  const app = (tenantId: string) => {
    let client = apps.get(tenantId);
    if (!client) {
      // Client credentials need a tenant-specific authority (not `organizations`): one app per tenant.
      client = new ConfidentialClientApplication({
        auth: {
          clientId: settings.clientId,
          clientSecret: settings.clientSecret,
          authority: `${settings.loginOrigin}/${tenantId}`,
          ...(MICROSOFT_LOGIN_HOSTS.includes(loginHost) ? {} : { knownAuthorities: [loginHost] }),
        },
      });
      apps.set(tenantId, client);
    }
    return client;
  };
  // Tenants whose cached token Graph refused (401): the next token is fetched anew, once.
  const refresh = new Set<string>();
  // Each Graph request asks for the token twice, and MSAL's cache look-up costs about as much
  // CPU as the rest of the request (a full read makes 2,000): the token is kept here for
  // exactly as long as MSAL would hand out its cached copy.
  const held = new Map<string, { accessToken: string; until: number }>();
  const token = async (tenantId: string) => {
    const skipCache = refresh.delete(tenantId);
    const kept = held.get(tenantId);
    if (!skipCache && kept !== undefined && Date.now() < kept.until) return kept.accessToken;
    const result = await app(tenantId).acquireTokenByClientCredential({ scopes: [`${settings.graphResource}/.default`], skipCache });
    if (!result) throw new Error('MSAL returned no token');
    held.set(tenantId, { accessToken: result.accessToken, until: reuseUntil(result) });
    return result.accessToken;
  };
  // One pacer per tenant for this process: every read of the tenant shares its budget.
  const pacers = new Map<string, TenantPacer>();
  const pacer = (tenantId: string) => {
    let found = pacers.get(tenantId);
    if (!found) pacers.set(tenantId, (found = new TenantPacer()));
    return found;
  };
  // The SDK's default chain, with more patience (under a throttling storm a page gets up to 10
  // retries, each after Graph's Retry-After, before the activity's own retries take over) and
  // the tenant's pacer between the retries and the network; every answer is counted by status.
  const clients = new Map<string, Client>();
  const graph = (tenantId: string) => {
    let client = clients.get(tenantId);
    if (!client) clients.set(tenantId, (client = newClient(tenantId)));
    return client;
  };
  const newClient = (tenantId: string) =>
    Client.initWithMiddleware({
      baseUrl: `${settings.graphOrigin}/`,
      customHosts: new Set([new URL(settings.graphOrigin).hostname]),
      middleware: [
        new AuthenticationHandler({ getAccessToken: () => token(tenantId) }),
        new RetryHandler(new RetryHandlerOptions(undefined, GRAPH_MAX_RETRIES)),
        new PacingHandler(pacer(tenantId)),
        new RedirectHandler(new RedirectHandlerOptions()),
        new TelemetryHandler(),
        new GraphResponseCounter(),
        new HTTPMessageHandler(),
      ],
    });
  const call = async <T>(tenantId: string, work: (client: Client) => Promise<T>): Promise<T> => {
    try {
      await token(tenantId);
      try {
        return await work(graph(tenantId));
      } catch (error) {
        // A cached token can die before its time (consent revoked and granted again, keys
        // rolled): one fresh token and one more try before calling it refused.
        if (!(error instanceof GraphError) || error.statusCode !== 401) throw error;
        refresh.add(tenantId);
        await token(tenantId); // outside the Graph client, so a refusal keeps its AADSTS code
        return await work(graph(tenantId));
      }
    } catch (error) {
      throw classifyEntraError(error);
    }
  };
  return { settings, token, graph, call };
}

/**
 * When MSAL would stop handing out a cached token (msal-common's rule): 300 s before it expires
 * (its renewal offset), or at its `refreshOn` if Microsoft set one (long-lived tokens), whichever
 * comes first. A token without an expiry is not kept.
 */
export function reuseUntil({ expiresOn, refreshOn }: { expiresOn: Date | null; refreshOn?: Date }): number {
  if (expiresOn === null) return 0;
  return Math.min(expiresOn.getTime() - TOKEN_RENEWAL_OFFSET_MS, refreshOn?.getTime() ?? Infinity);
}

const TOKEN_RENEWAL_OFFSET_MS = 300_000;

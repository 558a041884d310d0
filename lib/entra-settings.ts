import type { Config } from './config.js';

/** How the worker reaches Microsoft (or the emulator). Only the worker holds the secret. */
export interface EntraSettings {
  clientId: string;
  clientSecret: string;
  /** https origin of the sign-in service, e.g. https://login.microsoftonline.com */
  loginOrigin: string;
  /** https origin of Microsoft Graph, e.g. https://graph.microsoft.com */
  graphOrigin: string;
  /** The resource the `.default` scope names: https://graph.microsoft.com (or a national cloud's). */
  graphResource: string;
  /** Where browsers are sent for admin consent: the login origin, or the emulator's http pages. */
  consentOrigin: string;
  /** true when talking to the Entra emulator: the UI shows a demo-tenant marker. */
  emulator: boolean;
}

/** The delegated scopes Connect's sign-in asks for: who signed in (openid) and their name (profile); nothing more. */
export const SIGN_IN_SCOPES = ['openid', 'profile'];

/** What the web process needs: no secret. */
export type PublicEntraSettings = Omit<EntraSettings, 'clientSecret'>;

export function entraSettingsFromConfig(config: Config): EntraSettings | undefined {
  const settings = publicEntraSettingsFromConfig(config);
  if (settings === undefined || config.ENTRA_CLIENT_SECRET === undefined) return undefined;
  return { ...settings, clientSecret: config.ENTRA_CLIENT_SECRET };
}

/** The web process's view: everything but the secret, which it never reads. */
export function publicEntraSettingsFromConfig(config: Config): PublicEntraSettings | undefined {
  if (config.ENTRA_CLIENT_ID === undefined) return undefined;
  return {
    clientId: config.ENTRA_CLIENT_ID,
    loginOrigin: `https://${config.ENTRA_LOGIN_HOST}`,
    graphOrigin: `https://${config.ENTRA_GRAPH_HOST}`,
    graphResource: `https://${config.ENTRA_GRAPH_HOST}`,
    consentOrigin: `https://${config.ENTRA_LOGIN_HOST}`,
    emulator: false,
  };
}

export function withoutSecret({ clientSecret: _secret, ...settings }: EntraSettings): PublicEntraSettings {
  return settings;
}

/**
 * The sign-in that starts Connect: OpenID Connect's authorization code flow on `organizations`
 * (the admin's own tenant answers), with a nonce and a PKCE challenge. Built here rather than by
 * MSAL's getAuthCodeUrl because the web process holds no client secret (MSAL's confidential client
 * needs one) and because, with the emulator, browsers are sent to its plain-http pages.
 */
export function signInUrl(settings: PublicEntraSettings, request: { redirectUri: string; state: string; nonce: string; codeChallenge: string; scopes: string[] }): string {
  const url = new URL(`${settings.consentOrigin}/organizations/oauth2/v2.0/authorize`);
  url.searchParams.set('client_id', settings.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('response_mode', 'query');
  url.searchParams.set('redirect_uri', request.redirectUri);
  url.searchParams.set('scope', request.scopes.join(' '));
  url.searchParams.set('state', request.state);
  url.searchParams.set('nonce', request.nonce);
  url.searchParams.set('code_challenge', request.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('prompt', 'select_account');
  return url.toString();
}

/** The admin-consent URL (v2 endpoint) for the one tenant the sign-in proved. */
export function adminConsentUrl(settings: PublicEntraSettings, tenantId: string, redirectUri: string, state: string): string {
  const url = new URL(`${settings.consentOrigin}/${encodeURIComponent(tenantId)}/v2.0/adminconsent`);
  url.searchParams.set('client_id', settings.clientId);
  url.searchParams.set('scope', `${settings.graphResource}/.default`);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('state', state);
  return url.toString();
}

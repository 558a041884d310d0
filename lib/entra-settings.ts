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

/** The admin-consent URL (v2 endpoint, `organizations`: the admin's own tenant answers). */
export function adminConsentUrl(settings: PublicEntraSettings, redirectUri: string, state: string): string {
  const url = new URL(`${settings.consentOrigin}/organizations/v2.0/adminconsent`);
  url.searchParams.set('client_id', settings.clientId);
  url.searchParams.set('scope', `${settings.graphResource}/.default`);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('state', state);
  return url.toString();
}

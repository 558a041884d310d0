import express, { Router } from 'express';
import type { Directory, TenantDirectory } from '../directory.js';
import { injectRuleFault, type FaultSettings } from '../faults.js';
import type { RequestLog } from '../request-log.js';
import type { TokenIssuer } from '../tokens.js';
import { aadstsDescription, redirect, textOf, tokenError } from './answers.js';
import { authorizeRoutes, cookieOf, redeemAuthorizationCode, SIGN_IN_COOKIE } from './authorize.js';
import type { Account, SignInService } from './oidc.js';
import { consentPage, errorPage } from './pages.js';

export interface LoginDeps {
  directory: Directory;
  tokens: TokenIssuer;
  signIn: SignInService;
  log: RequestLog;
  /** The https origin that answers as Graph, for the `.default` scope check. */
  graphResource: () => string[];
  /** Rules naming the token endpoint (`oauth2/v2.0/token`) fail its requests too. */
  faults: FaultSettings;
}

/** login.microsoftonline.com: sign-in, admin consent, the token endpoint, and the discovery documents MSAL reads. */
export function loginRoutes(deps: LoginDeps): Router {
  const router = Router();
  const { directory } = deps;
  router.use((req, res, next) => {
    const started = Date.now();
    res.on('finish', () =>
      deps.log.add({ host: 'login', method: req.method, path: req.path, status: res.statusCode, durationMs: Date.now() - started }),
    );
    next();
  });
  router.use(authorizeRoutes(deps));

  router.get('/common/discovery/instance', (req, res) => {
    const host = req.headers.host ?? 'localhost';
    res.json({
      tenant_discovery_endpoint: `https://${host}/common/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  });

  router.get('/:tenant/v2.0/.well-known/openid-configuration', (req, res) => {
    const origin = `https://${req.headers.host ?? 'localhost'}`;
    const tenant = req.params.tenant;
    if (!['common', 'organizations'].includes(tenant) && !directory.findTenant(tenant)) {
      res.status(400).json({ error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${tenant}' not found.`, error_codes: [90002] });
      return;
    }
    res.json({
      token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${origin}/{tenantid}/v2.0`,
      userinfo_endpoint: `${origin}/oidc/userinfo`,
      claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
      rbac_url: 'https://pas.windows.net',
      request_uri_parameter_supported: false,
      authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${origin}/${tenant}/oauth2/v2.0/logout`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      tenant_region_scope: null,
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    });
  });

  /**
   * The account that grants the consent: the one signed in on this browser, else the tenant's
   * built-in admin (a consent URL opened directly). Only Global and Privileged Role
   * Administrators may grant Microsoft Graph application permissions.
   */
  const consentingAccount = (tenant: TenantDirectory, signedIn: Account | undefined) => {
    const account = signedIn ?? deps.signIn.findAccount(tenant, `admin@${tenant.tenant.verifiedDomains.find((domain) => domain.isDefault)?.name ?? tenant.tenant.verifiedDomains[0]!.name}`);
    return account && deps.signIn.canGrantGraphAppConsent(account) ? account : undefined;
  };

  const consentParams = (source: Record<string, unknown>) => ({
    clientId: textOf(source.client_id),
    redirectUri: textOf(source.redirect_uri),
    state: typeof source.state === 'string' ? source.state : undefined,
    scope: textOf(source.scope),
  });

  router.get('/:tenant/v2.0/adminconsent', (req, res) => {
    const params = consentParams(req.query);
    const checked = checkConsentRequest(directory, req.params.tenant, params.clientId, params.redirectUri);
    if ('page' in checked) {
      res.status(400).type('html').send(checked.page);
      return;
    }
    const { app, tenants } = checked;
    if (!/\/\.default$/.test(params.scope.split(' ').find((scope) => scope.endsWith('/.default')) ?? '')) {
      redirect(res, params.redirectUri, {
        error: 'invalid_request',
        error_description: "AADSTS900144: The request body must contain the following parameter: 'scope'.",
        state: params.state,
      });
      return;
    }
    // Signed in on this browser (Connect signs in first): consent is asked of that account.
    const account = deps.signIn.session(cookieOf(req, SIGN_IN_COOKIE));
    if (account && !tenants.includes(account.tenant)) {
      redirect(res, params.redirectUri, {
        error: 'access_denied',
        error_description: aadstsDescription(50020, `User account '${account.upn}' from identity provider 'https://sts.windows.net/${account.tenant.id}/' does not exist in tenant '${tenants[0]!.tenant.displayName}' and cannot access the application '${app.appId}'(${app.displayName}) in that tenant.`),
        admin_consent: 'True',
        state: params.state,
      });
      return;
    }
    const offered = account ? [account.tenant] : tenants;
    res.type('html').send(
      consentPage({
        app,
        tenants: offered.map((tenant) => ({
          id: tenant.id,
          displayName: tenant.tenant.displayName,
          domain: tenant.tenant.verifiedDomains.find((domain) => domain.isDefault)?.name ?? tenant.tenant.verifiedDomains[0]!.name,
          upn: account?.upn,
          canConsent: consentingAccount(tenant, account) !== undefined,
        })),
        action: req.originalUrl.split('?')[0]!,
        fields: { client_id: params.clientId, redirect_uri: params.redirectUri, scope: params.scope, ...(params.state === undefined ? {} : { state: params.state }) },
      }),
    );
  });

  router.post('/:tenant/v2.0/adminconsent', express.urlencoded({ extended: false, limit: '64kb' }), (req, res) => {
    const form = req.body as Record<string, string>;
    const params = consentParams(form);
    const checked = checkConsentRequest(directory, req.params.tenant, params.clientId, params.redirectUri);
    if ('page' in checked) {
      res.status(400).type('html').send(checked.page);
      return;
    }
    const tenant = checked.tenants.find((candidate) => candidate.id === form.tenant_choice);
    if (form.decision !== 'cancel' && tenant === undefined) {
      res.status(400).type('html').send(errorPage('90002', `Tenant '${form.tenant_choice ?? ''}' is not one this sign-in can choose.`));
      return;
    }
    if (form.decision === 'cancel' || tenant === undefined) {
      redirect(res, params.redirectUri, {
        error: 'access_denied',
        error_description: aadstsDescription(65004, 'The resource owner or authorization server denied the request. User declined to consent to access the app.'),
        error_uri: 'https://login.microsoftonline.com/error?code=65004',
        admin_consent: 'True',
        state: params.state,
      });
      return;
    }
    const signedIn = deps.signIn.session(cookieOf(req, SIGN_IN_COOKIE));
    if (signedIn && signedIn.tenant !== tenant) {
      res.status(400).type('html').send(errorPage('50020', `User account '${signedIn.upn}' does not exist in tenant '${tenant.tenant.displayName}'.`));
      return;
    }
    if (consentingAccount(tenant, signedIn) === undefined) {
      redirect(res, params.redirectUri, {
        error: 'access_denied',
        error_description: aadstsDescription(90094, 'Admin consent is required for the permissions requested by this application. An administrator of the tenant must grant consent.'),
        error_uri: 'https://login.microsoftonline.com/error?code=90094',
        admin_consent: 'True',
        state: params.state,
      });
      return;
    }
    tenant.grantConsent(checked.app);
    redirect(res, params.redirectUri, {
      admin_consent: 'True',
      tenant: tenant.id,
      state: params.state,
      scope: checked.app.requiredAppRoles.map((role) => `https://graph.microsoft.com/${role}`).join(' '),
    });
  });

  router.post('/:tenant/oauth2/v2.0/token', express.urlencoded({ extended: false, limit: '64kb' }), (req, res) => {
    // The token endpoint throttles (429, AADSTS50196 for a client asking in a loop) and has
    // outages (5xx), with Retry-After, in AAD's error shape; MSAL then holds its requests back.
    const fault = injectRuleFault(deps.faults, `/${req.params.tenant}/oauth2/v2.0/token`);
    if (fault) {
      if (fault.retryAfterSeconds !== undefined) res.set('Retry-After', String(fault.retryAfterSeconds));
      if (fault.status === 429) return tokenError(res, 429, 'temporarily_unavailable', 50196, 'The server terminated an operation because it encountered a client request loop. Please contact your app vendor.');
      return tokenError(res, fault.status === 404 ? 503 : fault.status, 'temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.');
    }
    const form = (req.body ?? {}) as Record<string, string | undefined>;
    let clientId = form.client_id;
    let secret = form.client_secret;
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [user, password] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      clientId ??= decodeURIComponent(user ?? '');
      secret ??= decodeURIComponent(password ?? '');
    }
    const tenant = directory.findTenant(req.params.tenant);
    if (form.grant_type === 'authorization_code') {
      const app = clientId === undefined ? undefined : directory.application(clientId);
      if (!app) return tokenError(res, 400, 'unauthorized_client', 700016, `Application with identifier '${clientId ?? ''}' was not found in the directory.`);
      if (!secret) return tokenError(res, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
      if (!app.secrets.includes(secret)) return tokenError(res, 401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.appId}'.`);
      if (!tenant && !['common', 'organizations'].includes(req.params.tenant.toLowerCase())) {
        return tokenError(res, 400, 'invalid_request', 90002, `Tenant '${req.params.tenant}' not found.`);
      }
      return redeemAuthorizationCode(deps, req, res, form, app);
    }
    if (['common', 'organizations', 'consumers'].includes(req.params.tenant.toLowerCase())) {
      return tokenError(res, 400, 'invalid_request', 900144, "The client credentials grant is not supported on this endpoint; use a tenant-specific authority.");
    }
    if (!tenant) {
      return tokenError(res, 400, 'invalid_request', 90002, `Tenant '${req.params.tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    if (form.grant_type !== 'client_credentials') {
      return tokenError(res, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${form.grant_type ?? ''}'.`);
    }
    const app = clientId === undefined ? undefined : directory.application(clientId);
    if (!app) {
      return tokenError(res, 400, 'unauthorized_client', 700016, `Application with identifier '${clientId ?? ''}' was not found in the directory '${tenant.tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
    }
    if (secret === undefined || secret === '') {
      return tokenError(res, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    if (!app.secrets.includes(secret)) {
      return tokenError(res, 401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.appId}'.`);
    }
    const scopes = (form.scope ?? '').split(' ').filter((scope) => !['openid', 'profile', 'offline_access'].includes(scope));
    // Graph's resource, or the emulator's own origin: it answers as Graph on the host it is reached
    // at, as a national cloud's Graph is its own resource (https://graph.microsoft.us, …).
    const resources = [...deps.graphResource(), `https://${req.headers.host ?? ''}`];
    if (scopes.length !== 1 || !resources.some((resource) => scopes[0] === `${resource}/.default`)) {
      return tokenError(res, 400, 'invalid_scope', 1002012, `The provided value for scope ${form.scope ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    const principal = tenant.servicePrincipal(app.appId);
    if (!principal) {
      return tokenError(res, 400, 'unauthorized_client', 700016, `Application with identifier '${app.appId}' was not found in the directory '${tenant.tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
    }
    const { token, expiresIn } = deps.tokens.issue(tenant.id, app.appId, principal.appRoles);
    res.type('application/json; charset=utf-8').send({ token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token });
  });

  return router;
}

function checkConsentRequest(
  directory: Directory,
  tenantSegment: string,
  clientId: string,
  redirectUri: string,
): { page: string } | { app: NonNullable<ReturnType<Directory['application']>>; tenants: TenantDirectory[] } {
  const app = directory.application(clientId);
  if (!app) return { page: errorPage('700016', `Application with identifier '${clientId}' was not found in the directory.`) };
  if (!app.redirectUris.includes(redirectUri)) {
    return { page: errorPage('50011', `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${app.appId}'.`) };
  }
  if (tenantSegment.toLowerCase() === 'common') {
    return { page: errorPage('9001023', "The grant type isn't supported over the /common or /consumers endpoints. Use /organizations or a tenant-specific endpoint.") };
  }
  if (tenantSegment.toLowerCase() === 'organizations') return { app, tenants: directory.allTenants() };
  const tenant = directory.findTenant(tenantSegment);
  if (!tenant) return { page: errorPage('90002', `Tenant '${tenantSegment}' not found.`) };
  return { app, tenants: [tenant] };
}


import express, { Router, type Request, type Response } from 'express';
import type { Directory, TenantDirectory } from '../directory.js';
import type { Application } from '../model.js';
import { aadstsDescription, redirect, textOf, tokenError } from './answers.js';
import type { Account, SignInService } from './oidc.js';
import { errorPage, signInPage } from './pages.js';

/** The emulator's own sign-in cookie on its browser origin (Microsoft's is ESTSAUTH). */
export const SIGN_IN_COOKIE = 'emulator_estsauth';

export interface AuthorizeDeps {
  directory: Directory;
  signIn: SignInService;
}

interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  responseType: string;
  scope: string;
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  prompt: string;
  responseMode: string;
}

function paramsOf(source: Record<string, unknown>): AuthorizeParams {
  const optional = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  return {
    clientId: textOf(source.client_id),
    redirectUri: textOf(source.redirect_uri),
    responseType: textOf(source.response_type),
    scope: textOf(source.scope),
    state: optional(source.state),
    nonce: optional(source.nonce),
    codeChallenge: optional(source.code_challenge),
    codeChallengeMethod: optional(source.code_challenge_method),
    prompt: textOf(source.prompt),
    responseMode: textOf(source.response_mode),
  };
}

export function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/**
 * `/{tenant}/oauth2/v2.0/authorize`: the OpenID Connect sign-in (authorization code flow).
 * Checks happen in Microsoft's order: an unknown app or redirect URI gets an error page (never a
 * redirect), a bad request goes back to the app as `error`/`error_description`, and a signed-in
 * user goes back with a code.
 */
export function authorizeRoutes({ directory, signIn }: AuthorizeDeps): Router {
  const router = Router();

  /** The request as far as it can be trusted: app, redirect URI, tenants — or the page to show. */
  function check(tenantSegment: string, params: AuthorizeParams): { page: string } | { app: Application; tenants: TenantDirectory[] } {
    const app = directory.application(params.clientId);
    if (!app) return { page: errorPage('700016', `Application with identifier '${params.clientId}' was not found in the directory.`) };
    if (!app.redirectUris.includes(params.redirectUri)) {
      return { page: errorPage('50011', `The redirect URI '${params.redirectUri}' specified in the request does not match the redirect URIs configured for the application '${app.appId}'.`) };
    }
    const segment = tenantSegment.toLowerCase();
    if (segment === 'common' || segment === 'organizations') return { app, tenants: directory.allTenants() };
    const tenant = directory.findTenant(tenantSegment);
    if (!tenant) return { page: errorPage('90002', `Tenant '${tenantSegment}' not found.`) };
    return { app, tenants: [tenant] };
  }

  /** A bad request that can safely go back to the app. */
  function requestError(params: AuthorizeParams): { error: string; code: number; message: string } | undefined {
    if (params.responseType.split(' ').indexOf('code') === -1) {
      return { error: 'unsupported_response_type', code: 700054, message: "response_type 'code' is required for this flow." };
    }
    if (!params.scope.split(' ').includes('openid')) return { error: 'invalid_request', code: 900144, message: "The request body must contain the following parameter: 'scope' (with openid)." };
    if (params.codeChallenge !== undefined && !['S256', 'plain', undefined].includes(params.codeChallengeMethod)) {
      return { error: 'invalid_request', code: 501491, message: "Invalid code_challenge_method: use 'S256' or 'plain'." };
    }
    return undefined;
  }

  /** Back to the app with a code for this account, or with the error Microsoft would send. */
  function finish(res: Response, app: Application, params: AuthorizeParams, account: Account): void {
    const tenant = account.tenant;
    const consented = tenant.servicePrincipal(app.appId) !== undefined;
    if (!consented && !tenant.tenant.settings.usersCanConsent && !signIn.isAdmin(account)) {
      redirect(res, params.redirectUri, {
        error: 'consent_required',
        error_description: aadstsDescription(65001, `The user or administrator has not consented to use the application with ID '${app.appId}' named '${app.displayName}'. Send an interactive authorization request for this user and resource.`),
        error_codes: '65001',
        state: params.state,
      });
      return;
    }
    const code = signIn.issueCode({
      clientId: app.appId,
      redirectUri: params.redirectUri,
      scope: params.scope,
      nonce: params.nonce,
      codeChallenge: params.codeChallenge,
      codeChallengeMethod: params.codeChallenge === undefined ? undefined : (params.codeChallengeMethod ?? 'plain'),
      account,
    });
    redirect(res, params.redirectUri, { code, state: params.state, session_state: tenant.id });
  }

  router.get('/:tenant/oauth2/v2.0/authorize', (req, res) => {
    const params = paramsOf(req.query);
    const checked = check(req.params.tenant, params);
    if ('page' in checked) return void res.status(400).type('html').send(checked.page);
    const bad = requestError(params);
    if (bad) return redirect(res, params.redirectUri, { error: bad.error, error_description: aadstsDescription(bad.code, bad.message), state: params.state });
    const current = signIn.session(cookieOf(req, SIGN_IN_COOKIE));
    if (params.prompt === 'none') {
      if (current && checked.tenants.includes(current.tenant)) return finish(res, checked.app, params, current);
      return redirect(res, params.redirectUri, { error: 'login_required', error_description: aadstsDescription(50058, 'A silent sign-in request was sent but no user is signed in.'), state: params.state });
    }
    const accounts = checked.tenants.flatMap((tenant) => signIn.accounts(tenant, checked.tenants.length > 1 ? 8 : 25));
    const fields = Object.fromEntries(Object.entries(req.query).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
    res.type('html').send(
      signInPage({
        appName: checked.app.displayName,
        action: req.originalUrl.split('?')[0]!,
        fields,
        accounts: accounts.map((account) => ({ value: `${account.tenant.id}:${account.oid}`, upn: account.upn, name: account.name, tenantName: account.tenant.tenant.displayName, roles: account.roles })),
      }),
    );
  });

  router.post('/:tenant/oauth2/v2.0/authorize', express.urlencoded({ extended: false, limit: '64kb' }), (req, res) => {
    const form = req.body as Record<string, unknown>;
    const params = paramsOf(form);
    const checked = check(req.params.tenant, params);
    if ('page' in checked) return void res.status(400).type('html').send(checked.page);
    const bad = requestError(params);
    if (bad) return redirect(res, params.redirectUri, { error: bad.error, error_description: aadstsDescription(bad.code, bad.message), state: params.state });
    if (form.decision === 'cancel') {
      return redirect(res, params.redirectUri, {
        error: 'access_denied',
        error_description: aadstsDescription(65004, 'The resource owner or authorization server denied the request. User declined to consent to access the app.'),
        error_uri: 'https://login.microsoftonline.com/error?code=65004',
        state: params.state,
      });
    }
    const account = chosenAccount(textOf(form.login).trim(), textOf(form.account));
    if (!account) return void res.status(400).type('html').send(errorPage('50034', 'The user account does not exist in this directory. To sign into this application, the account must be added to the directory.'));
    if (!checked.tenants.includes(account.tenant)) {
      return redirect(res, params.redirectUri, {
        error: 'access_denied',
        error_description: aadstsDescription(50020, `User account '${account.upn}' from identity provider 'https://sts.windows.net/${account.tenant.id}/' does not exist in tenant '${checked.tenants[0]!.tenant.displayName}' and cannot access the application '${checked.app.appId}'(${checked.app.displayName}) in that tenant.`),
        state: params.state,
      });
    }
    const session = signIn.startSession(account);
    res.append('Set-Cookie', `${SIGN_IN_COOKIE}=${session}; Path=/; HttpOnly; SameSite=Lax`);
    finish(res, checked.app, params, account);
  });

  /** `tenantId:oid` from the list, or a UPN typed in (any tenant: Microsoft finds the home tenant by domain). */
  function chosenAccount(login: string, choice: string): Account | undefined {
    if (login !== '') {
      const domain = login.split('@')[1] ?? '';
      const tenant = directory.findTenant(domain) ?? directory.allTenants().find((candidate) => signIn.findAccount(candidate, login) !== undefined);
      return tenant ? signIn.findAccount(tenant, login) : undefined;
    }
    const [tenantId, oid] = choice.split(':');
    const tenant = tenantId ? directory.findTenant(tenantId) : undefined;
    return tenant && oid ? signIn.findAccount(tenant, oid) : undefined;
  }

  router.get('/:tenant/discovery/v2.0/keys', (req, res) => {
    const origin = `https://${req.headers.host ?? 'localhost'}`;
    const segment = req.params.tenant;
    const tenant = directory.findTenant(segment);
    if (!tenant && !['common', 'organizations'].includes(segment.toLowerCase())) {
      return tokenError(res, 400, 'invalid_tenant', 90002, `Tenant '${segment}' not found.`);
    }
    res.json(signIn.jwks(tenant ? `${origin}/${tenant.id}/v2.0` : `${origin}/{tenantid}/v2.0`));
  });

  return router;
}

/** The token endpoint's authorization_code grant (client already authenticated by the caller). */
export function redeemAuthorizationCode(
  { signIn }: AuthorizeDeps,
  req: Request,
  res: Response,
  form: Record<string, string | undefined>,
  app: Application,
): void {
  const result = signIn.redeem(form.code ?? '', {
    clientId: app.appId,
    redirectUri: form.redirect_uri ?? '',
    codeVerifier: form.code_verifier,
    tenantSegment: String(req.params.tenant ?? ''),
  });
  if (!result.ok) return tokenError(res, 400, result.error, result.code, result.description);
  const origin = `https://${req.headers.host ?? 'localhost'}`;
  res.type('application/json; charset=utf-8').send({
    token_type: 'Bearer',
    scope: 'openid profile User.Read',
    expires_in: 3599,
    ext_expires_in: 3599,
    access_token: signIn.accessToken(),
    id_token: signIn.idToken({ origin, app, account: result.account, nonce: result.nonce }),
    ...(form.client_info === '1' ? { client_info: signIn.clientInfo(result.account) } : {}),
  });
}

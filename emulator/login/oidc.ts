import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { Directory, TenantDirectory } from '../directory.js';
import { stableId } from '../ids.js';
import { DIRECTORY_ROLE_TEMPLATES, type Application, type DirectoryRole } from '../model.js';

/** Microsoft's template id of the implicit "User" role every member holds; `wids` always lists it. */
const MEMBER_ROLE_TEMPLATE = 'b79fbf4d-3ef9-4689-8143-76b194e85509';
/** Roles that may grant tenant-wide admin consent to Microsoft Graph application permissions. */
const GRAPH_APP_CONSENT_ROLES: DirectoryRole[] = ['Global Administrator', 'Privileged Role Administrator'];
const CODE_LIFETIME_MS = 10 * 60 * 1000; // Microsoft: authorization codes live about 10 minutes
const ID_TOKEN_LIFETIME_S = 3600;

/** Someone who can sign in: a user of the tenant, or the tenant's built-in emulator admin. */
export interface Account {
  tenant: TenantDirectory;
  oid: string;
  upn: string;
  name: string;
  roles: DirectoryRole[];
  guest: boolean;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  scope: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  account: Account;
  expiresAt: number;
  redeemed: boolean;
}

export type RedeemResult =
  | { ok: true; account: Account; nonce?: string; scope: string }
  | { ok: false; error: 'invalid_grant'; code: number; description: string };

/**
 * The OpenID Connect side of login.microsoftonline.com: who may sign in, authorization codes
 * (single use, ten minutes, bound to client, redirect URI and PKCE challenge), RS256 id_tokens
 * with the claims Microsoft issues, and the signing keys every tenant's jwks_uri serves (Microsoft
 * signs every tenant's tokens with one shared key set).
 */
export class SignInService {
  private readonly privateKey: KeyObject;
  private readonly publicJwk: Record<string, string>;
  readonly keyId: string;
  private readonly codes = new Map<string, IssuedCode>();
  /** The emulator's browser sessions (its ESTS cookie): who signed in on this browser. */
  private readonly sessions = new Map<string, Account>();

  constructor(private readonly directory: Directory) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    this.keyId = createHash('sha256').update(jwk.n).digest('base64url').slice(0, 27);
    this.publicJwk = { kty: 'RSA', use: 'sig', kid: this.keyId, x5t: this.keyId, n: jwk.n, e: jwk.e };
  }

  jwks(issuer: string): { keys: Array<Record<string, string>> } {
    return { keys: [{ ...this.publicJwk, issuer }] };
  }

  /** Accounts a tenant's sign-in page offers: role holders first, then other users (at most `limit`). */
  accounts(tenant: TenantDirectory, limit = 25): Account[] {
    const users = [...tenant.users.values()].filter((user) => user.accountEnabled);
    const holders = users.filter((user) => user.directoryRoles.length > 0);
    const others = users.filter((user) => user.directoryRoles.length === 0).slice(0, Math.max(0, limit - holders.length));
    const listed = [...holders, ...others].map((user) => this.accountOf(tenant, user.id)!);
    return holders.length > 0 ? listed : [this.builtInAdmin(tenant), ...listed];
  }

  /** A user of the tenant by id or UPN, or its built-in admin. */
  findAccount(tenant: TenantDirectory, idOrUpn: string): Account | undefined {
    const key = idOrUpn.toLowerCase();
    const builtIn = this.builtInAdmin(tenant);
    if (builtIn.oid === key || builtIn.upn.toLowerCase() === key) return builtIn;
    const user = [...tenant.users.values()].find((candidate) => candidate.id.toLowerCase() === key || candidate.userPrincipalName.toLowerCase() === key);
    return user ? this.accountOf(tenant, user.id) : undefined;
  }

  canGrantGraphAppConsent(account: Account): boolean {
    return account.roles.some((role) => GRAPH_APP_CONSENT_ROLES.includes(role));
  }

  isAdmin(account: Account): boolean {
    return account.roles.length > 0;
  }

  startSession(account: Account): string {
    const id = randomBytes(24).toString('base64url');
    this.sessions.set(id, account);
    return id;
  }

  session(id: string | undefined): Account | undefined {
    return id === undefined ? undefined : this.sessions.get(id);
  }

  issueCode(input: Omit<IssuedCode, 'expiresAt' | 'redeemed'>, now = Date.now()): string {
    const code = `1.${randomBytes(48).toString('base64url')}`;
    this.codes.set(code, { ...input, expiresAt: now + CODE_LIFETIME_MS, redeemed: false });
    return code;
  }

  /** The token endpoint's checks of an authorization code, in Microsoft's order and with its codes. */
  redeem(code: string, request: { clientId: string; redirectUri: string; codeVerifier?: string; tenantSegment: string }, now = Date.now()): RedeemResult {
    const refuse = (number: number, description: string): RedeemResult => ({ ok: false, error: 'invalid_grant', code: number, description });
    const issued = this.codes.get(code);
    if (!issued) return refuse(9002313, 'Invalid request. Request is malformed or invalid.');
    if (issued.redeemed) return refuse(54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
    if (issued.expiresAt <= now) return refuse(70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.');
    if (issued.clientId.toLowerCase() !== request.clientId.toLowerCase()) return refuse(70000, 'The provided value for the code parameter is not valid: it was issued to another client.');
    if (issued.redirectUri !== request.redirectUri) return refuse(500112, 'The reply address does not match the reply address that was used when the authorization code was requested.');
    const segment = request.tenantSegment.toLowerCase();
    if (!['common', 'organizations'].includes(segment) && this.directory.findTenant(segment)?.id !== issued.account.tenant.id) {
      return refuse(50020, `User account '${issued.account.upn}' does not exist in tenant '${request.tenantSegment}' and cannot access the application.`);
    }
    if (issued.codeChallenge !== undefined) {
      const verifier = request.codeVerifier ?? '';
      const derived = issued.codeChallengeMethod === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
      if (verifier === '' || derived !== issued.codeChallenge) return refuse(50148, 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.');
    }
    issued.redeemed = true;
    return { ok: true, account: issued.account, nonce: issued.nonce, scope: issued.scope };
  }

  /** An id_token as Microsoft's v2.0 endpoint issues it (RS256, `wids` only if the app asks for roles). */
  idToken(input: { origin: string; app: Application; account: Account; nonce?: string }, now = Date.now()): string {
    const iat = Math.floor(now / 1000);
    const { account, app } = input;
    const claims: Record<string, unknown> = {
      aud: app.appId,
      iss: `${input.origin}/${account.tenant.id}/v2.0`,
      iat,
      nbf: iat,
      exp: iat + ID_TOKEN_LIFETIME_S,
      name: account.name,
      ...(input.nonce === undefined ? {} : { nonce: input.nonce }),
      oid: account.oid,
      preferred_username: account.upn,
      rh: `0.${randomBytes(32).toString('base64url')}.`,
      sub: createHash('sha256').update(`${account.oid}:${app.appId}`).digest('base64url').slice(0, 43),
      tid: account.tenant.id,
      uti: randomBytes(16).toString('base64url'),
      ver: '2.0',
    };
    if (app.groupMembershipClaims === 'DirectoryRole' || app.groupMembershipClaims === 'All') {
      claims.wids = [...account.roles.map((role) => DIRECTORY_ROLE_TEMPLATES[role]), ...(account.guest ? [] : [MEMBER_ROLE_TEMPLATE])];
    }
    const header = encode({ typ: 'JWT', alg: 'RS256', kid: this.keyId });
    const body = encode(claims);
    const signature = sign('RSA-SHA256', Buffer.from(`${header}.${body}`), this.privateKey).toString('base64url');
    return `${header}.${body}.${signature}`;
  }

  /** The client_info MSAL asks for (client_info=1): the account's home ids. */
  clientInfo(account: Account): string {
    return encode({ uid: account.oid, utid: account.tenant.id });
  }

  /** An opaque delegated access token for the openid/profile scopes (Graph's User.Read audience). */
  accessToken(): string {
    return `${encode({ typ: 'JWT', alg: 'none' })}.${encode({ uti: randomUUID(), scp: 'openid profile User.Read' })}.`;
  }

  private accountOf(tenant: TenantDirectory, userId: string): Account | undefined {
    const user = tenant.users.get(userId);
    if (!user) return undefined;
    return { tenant, oid: user.id, upn: user.userPrincipalName, name: user.displayName ?? user.userPrincipalName, roles: [...user.directoryRoles], guest: user.userType === 'Guest' };
  }

  /**
   * Tenants loaded without any role holder still need someone who can consent: `admin@<default
   * domain>`, a Global Administrator (no role when the tenant's settings say its admin cannot
   * grant tenant-wide consent). Graph does not list this account.
   */
  private builtInAdmin(tenant: TenantDirectory): Account {
    const domain = tenant.tenant.verifiedDomains.find((candidate) => candidate.isDefault)?.name ?? tenant.tenant.verifiedDomains[0]!.name;
    return {
      tenant,
      oid: stableId('emulator-admin', tenant.id),
      upn: `admin@${domain}`,
      name: `${tenant.tenant.displayName} Admin`,
      roles: tenant.tenant.settings.canGrantTenantWideConsent ? ['Global Administrator'] : [],
      guest: false,
    };
  }
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

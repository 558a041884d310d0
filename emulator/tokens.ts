import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AppRole } from './model.js';

export interface AccessToken {
  tenantId: string;
  appId: string;
  /** The app roles granted when the token was issued (a token without roles is possible). */
  roles: AppRole[];
  expiresAt: number;
}

/**
 * App-only access tokens, JWT-shaped like Microsoft's (tid, appid, roles, exp) so clients that
 * peek at claims find them. MSAL never decodes Bearer tokens; the emulator verifies its own
 * HMAC signature and expiry, and can forget every token of a tenant (consent revoked).
 */
export class TokenIssuer {
  private readonly key = randomBytes(32);
  /** Tokens are numbered as issued; a revocation forgets every number up to its own moment. */
  private issued = 0;
  private readonly revokedUpTo = new Map<string, number>();

  constructor(public lifetimeSeconds = 3599) {}

  issue(tenantId: string, appId: string, roles: AppRole[], now = Date.now()): { token: string; expiresIn: number } {
    const expiresIn = this.lifetimeSeconds;
    const claims = {
      aud: 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${tenantId}/`,
      iat: Math.floor(now / 1000),
      nbf: Math.floor(now / 1000),
      exp: Math.floor(now / 1000) + expiresIn,
      appid: appId,
      tid: tenantId,
      roles,
      uti: randomUUID(),
      // The issue order, so a revocation and a re-grant within the same millisecond are told apart.
      xms_seq: ++this.issued,
      ver: '1.0',
    };
    const header = encode({ typ: 'JWT', alg: 'HS256', kid: 'hook-emulator' });
    const body = encode(claims);
    return { token: `${header}.${body}.${this.sign(`${header}.${body}`)}`, expiresIn };
  }

  /** The token's claims, or undefined if it is not ours, tampered with, expired or revoked. */
  verify(token: string, now = Date.now()): AccessToken | undefined {
    const [header, body, signature] = token.split('.');
    if (header === undefined || body === undefined || signature === undefined) return undefined;
    const expected = Buffer.from(this.sign(`${header}.${body}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
      tid: string;
      appid: string;
      roles: AppRole[];
      exp: number;
      xms_seq: number;
    };
    if (claims.exp * 1000 <= now) return undefined;
    if (claims.xms_seq <= (this.revokedUpTo.get(claims.tid.toLowerCase()) ?? 0)) return undefined;
    return { tenantId: claims.tid, appId: claims.appid, roles: claims.roles, expiresAt: claims.exp * 1000 };
  }

  /** Tokens of this tenant issued until now stop working (as if they had expired); later ones work. */
  revokeTenant(tenantId: string): void {
    this.revokedUpTo.set(tenantId.toLowerCase(), this.issued);
  }

  private sign(data: string): string {
    return createHmac('sha256', this.key).update(data).digest('base64url');
  }
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

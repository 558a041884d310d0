import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/**
 * Directory roles that can grant tenant-wide admin consent, by role template id (the values of
 * the `wids` claim; template ids are the same in every tenant):
 * https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent#prerequisites
 */
export const CONSENT_ROLE_TEMPLATES: Record<string, string> = {
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'Privileged Role Administrator',
  '158c047a-c907-4556-b7ef-446551a6b5f7': 'Cloud Application Administrator',
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3': 'Application Administrator',
};

const CLOCK_SKEW_S = 300;
const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);

const claimsSchema = z.object({
  iss: z.string(),
  aud: z.string(),
  exp: z.number(),
  nbf: z.number().optional(),
  iat: z.number(),
  nonce: z.string().optional(),
  tid: guid,
  oid: guid,
  preferred_username: z.string().optional(),
  name: z.string().optional(),
  wids: z.array(z.string()).optional(),
});
export type IdTokenClaims = z.infer<typeof claimsSchema>;

const headerSchema = z.object({ alg: z.string(), kid: z.string() });
const discoverySchema = z.object({ issuer: z.string(), jwks_uri: z.url() });
const jwksSchema = z.object({ keys: z.array(z.object({ kid: z.string(), kty: z.string(), n: z.string().optional(), e: z.string().optional() }).loose()) });

export class IdTokenError extends Error {
  override name = 'IdTokenError';
}

/**
 * Validates a v2.0 id_token as OpenID Connect Core §3.1.3.7 asks: RS256 signature by a key of the
 * tenant's jwks_uri (from its discovery document), issuer of that tenant, audience Hook's client
 * id, lifetime (five minutes of clock skew), and the nonce Hook sent. The tenant is read from the
 * token only after its signature holds.
 */
export function createIdTokenValidator(options: { loginOrigin: string; clientId: string; fetch?: typeof fetch; now?: () => number }) {
  const get = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const keys = new Map<string, KeyObject>();

  async function json(url: string): Promise<unknown> {
    const response = await get(url, { headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return response.json();
  }

  async function keyFor(tenantId: string, kid: string): Promise<{ key: KeyObject; issuer: string }> {
    const discovery = discoverySchema.parse(await json(`${options.loginOrigin}/${tenantId}/v2.0/.well-known/openid-configuration`));
    const issuer = discovery.issuer.replace('{tenantid}', tenantId);
    let key = keys.get(kid);
    if (!key) {
      // An unknown kid: Microsoft rolled its keys, so read the set again.
      for (const jwk of jwksSchema.parse(await json(discovery.jwks_uri)).keys) {
        if (jwk.kty === 'RSA') keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
      }
      key = keys.get(kid);
    }
    if (!key) throw new IdTokenError(`no signing key ${kid} in the tenant's key set`);
    return { key, issuer };
  }

  return async function validate(idToken: string, expectedNonce: string): Promise<IdTokenClaims> {
    const [headerPart, bodyPart, signaturePart, ...rest] = idToken.split('.');
    if (!headerPart || !bodyPart || !signaturePart || rest.length > 0) throw new IdTokenError('not a signed JWT');
    const header = headerSchema.safeParse(decode(headerPart));
    if (!header.success || header.data.alg !== 'RS256') throw new IdTokenError('the id_token is not signed with RS256');
    const claims = claimsSchema.safeParse(decode(bodyPart));
    if (!claims.success) throw new IdTokenError(`the id_token lacks a claim: ${claims.error.issues[0]?.path.join('.')}`);
    const { key, issuer } = await keyFor(claims.data.tid, header.data.kid);
    if (!verify('RSA-SHA256', Buffer.from(`${headerPart}.${bodyPart}`), key, Buffer.from(signaturePart, 'base64url'))) {
      throw new IdTokenError('the id_token signature does not verify');
    }
    const token = claims.data;
    const seconds = now() / 1000;
    if (token.iss !== issuer) throw new IdTokenError(`the id_token was issued by ${token.iss}, not by the tenant's issuer`);
    if (token.aud.toLowerCase() !== options.clientId.toLowerCase()) throw new IdTokenError('the id_token was issued to another application');
    if (token.exp + CLOCK_SKEW_S < seconds) throw new IdTokenError('the id_token has expired');
    if ((token.nbf ?? token.iat) - CLOCK_SKEW_S > seconds) throw new IdTokenError('the id_token is not valid yet');
    if (token.nonce !== expectedNonce) throw new IdTokenError('the id_token nonce does not match the sign-in Hook started');
    return token;
  };
}

function decode(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

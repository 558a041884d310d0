import { ApplicationFailure, Context } from '@temporalio/activity';
import { ConfidentialClientApplication } from '@azure/msal-node';
import type { Db } from '../db/client.js';
import { SIGN_IN_SCOPES } from '../lib/entra-settings.js';
import { forgetSignInSecrets, recordSignInProof, signInToRedeem } from '../db/repositories/consent-requests.js';
import { FailureType } from '../workflows/failures.js';
import type { ProvenAdmin } from '../workflows/onboarding/messages.js';
import type { EntraClients } from './graph/clients.js';
import { MICROSOFT_LOGIN_HOSTS } from './graph/clients.js';
import { classifyEntraError } from './graph/errors.js';
import { CONSENT_ROLE_TEMPLATES, createIdTokenValidator, IdTokenError } from './graph/id-token.js';


export function createSignInActivities({ db, entra }: { db: Db; entra: EntraClients }) {
  const { settings } = entra;
  const loginHost = new URL(settings.loginOrigin).host;
  // `organizations`: the admin's own tenant answers; the id_token says which one.
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      authority: `${settings.loginOrigin}/organizations`,
      ...(MICROSOFT_LOGIN_HOSTS.includes(loginHost) ? {} : { knownAuthorities: [loginHost] }),
    },
  });
  const validate = createIdTokenValidator({ loginOrigin: settings.loginOrigin, clientId: settings.clientId });

  const refuse = (type: FailureType, message: string, detail?: string) =>
    ApplicationFailure.create({ type, message, details: [{ code: detail ?? null }], nonRetryable: true });

  return {
    /**
     * Proves who signed in at Connect: redeems the authorization code (PKCE verifier and nonce
     * from the sign-in request row, never from the workflow's history), validates the id_token,
     * and checks that the user holds a role that can grant tenant-wide consent. Idempotent: a
     * retry after the proof was recorded returns it; the code itself is single use at Microsoft.
     */
    async proveSignIn(stateHash: string): Promise<ProvenAdmin> {
      const request = await signInToRedeem(db, stateHash);
      // Only the run that issued the sign-in may redeem it.
      if (!request || request.workflow_id !== Context.current().info.workflowExecution?.workflowId) {
        throw refuse(FailureType.SignInRefused, 'no sign-in request of this Connect for this answer');
      }
      if (request.proven_tenant_id && request.proven_user) return JSON.parse(request.proven_user) as ProvenAdmin;
      if (!request.code || !request.code_verifier || !request.nonce || !request.redirect_uri) {
        throw refuse(FailureType.SignInRefused, 'this sign-in was already used or refused');
      }
      let idToken: string;
      try {
        const result = await msal.acquireTokenByCode(
          { code: request.code, codeVerifier: request.code_verifier, nonce: request.nonce, redirectUri: request.redirect_uri, scopes: SIGN_IN_SCOPES },
          { code: request.code },
        );
        idToken = result.idToken;
      } catch (error) {
        const failure = classifyEntraError(error);
        if (failure.type === FailureType.EntraUnavailable) throw failure; // worth a retry: the code may not have been redeemed
        await forgetSignInSecrets(db, stateHash);
        const details = failure.details?.[0] as { aadsts?: string | null; code?: string | null } | undefined;
        throw refuse(FailureType.SignInRefused, failure.message, details?.aadsts ? `AADSTS${details.aadsts}` : (details?.code ?? undefined));
      }
      try {
        const claims = await validate(idToken, request.nonce);
        if (claims.wids === undefined) {
          throw refuse(FailureType.RolesClaimMissing, "the id_token has no wids claim: Hook's app registration must emit directory roles (groupMembershipClaims)");
        }
        const roles = claims.wids.map((id) => CONSENT_ROLE_TEMPLATES[id.toLowerCase()]).filter((role): role is string => role !== undefined);
        const admin: ProvenAdmin = { tenantId: claims.tid.toLowerCase(), userId: claims.oid, username: claims.preferred_username ?? claims.oid, roles };
        if (roles.length === 0) throw refuse(FailureType.NotTenantAdmin, `${admin.username} holds no directory role that can grant tenant-wide consent`, admin.username);
        await recordSignInProof(db, stateHash, { tenantId: admin.tenantId, user: JSON.stringify(admin) });
        return admin;
      } catch (error) {
        await forgetSignInSecrets(db, stateHash);
        if (error instanceof IdTokenError) throw refuse(FailureType.IdTokenInvalid, error.message);
        throw error;
      }
    },
  };
}

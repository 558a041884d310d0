import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { upsertConnection } from '../db/repositories/connections.js';
import { FailureType } from '../workflows/failures.js';
import type { VerifiedTenant } from '../workflows/onboarding/messages.js';
import type { EntraClients } from './graph/clients.js';

const organizationSchema = z.object({
  value: z
    .array(
      z.object({
        id: z.string(),
        displayName: z.string().nullable(),
        verifiedDomains: z.array(z.object({ name: z.string(), isDefault: z.boolean().nullable(), isInitial: z.boolean().nullable() })).default([]),
      }),
    )
    .length(1),
});

export function createOnboardingActivities({ db, entra }: { db: Db; entra: EntraClients }) {
  return {
    /**
     * Proves the consent: an app-only token for the tenant, then /organization for its name and
     * verified domains. The redirect's `tenant` parameter can be forged; this cannot.
     */
    async verifyTenant(tenantId: string): Promise<VerifiedTenant> {
      const body: unknown = await entra.call(tenantId, (graph) => graph.api('/organization').select('id,displayName,verifiedDomains').get());
      const parsed = organizationSchema.safeParse(body);
      if (!parsed.success) {
        throw ApplicationFailure.create({ type: FailureType.GraphBadResponse, message: `unexpected /organization answer: ${parsed.error.issues[0]?.message}`, nonRetryable: true });
      }
      const organization = parsed.data.value[0]!;
      if (organization.id.toLowerCase() !== tenantId.toLowerCase()) {
        throw ApplicationFailure.create({ type: FailureType.GraphBadResponse, message: 'the token answered for another tenant', nonRetryable: true });
      }
      return {
        tenantId: organization.id,
        displayName: organization.displayName ?? organization.verifiedDomains[0]?.name ?? organization.id,
        verifiedDomains: organization.verifiedDomains.map((domain) => ({
          name: domain.name,
          isDefault: domain.isDefault ?? false,
          isInitial: domain.isInitial ?? false,
        })),
      };
    },

    /** Idempotent: a retry, or a reconnect of the same tenant, updates the one row. */
    async saveConnection(orgId: string, tenant: VerifiedTenant): Promise<string> {
      return upsertConnection(db, {
        orgId,
        tenantId: tenant.tenantId,
        tenantName: tenant.displayName,
        verifiedDomains: tenant.verifiedDomains,
      });
    },
  };
}

import type { Browser } from 'playwright-core';
import { findOrgBySlug } from '../../db/repositories/accounts.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import type { TenantInput } from '../../emulator/model.js';
import { directorySyncWorkflowId } from '../../workflows/sync/messages.js';
import { launchChromium } from './browser.js';
import { startProductStack, type ProductStack } from './stack.js';

export interface PaneStack {
  stack: ProductStack;
  browser: Browser;
  connectionId: string;
  stop: () => Promise<void>;
}

/**
 * The product and Chromium, with the tenant connected to Acme and its first three groups chosen
 * for sync (not synced yet): where the browser tests of the workspace pane start.
 */
export async function startPaneStack(prefix: string, tenant: TenantInput, tenantName: string): Promise<PaneStack> {
  const [stack, browser] = await Promise.all([startProductStack({ prefix, tenants: [tenant] }), launchChromium()]);
  const acme = await findOrgBySlug(stack.database.db, stack.people.acme);
  const connectionId = await upsertConnection(stack.database.db, { orgId: acme!.id, tenantId: tenant.id, tenantName, verifiedDomains: [] });
  await stack.database.db
    .insertInto('synced_groups')
    .values(tenant.groups!.slice(0, 3).map((group) => ({ connection_id: connectionId, group_id: group.id, display_name: group.displayName })))
    .execute();
  return {
    stack,
    browser,
    connectionId,
    stop: async () => {
      await browser.close();
      await stack.temporal.client.workflow.getHandle(directorySyncWorkflowId(connectionId)).terminate().catch(() => undefined);
      await stack.stop();
    },
  };
}

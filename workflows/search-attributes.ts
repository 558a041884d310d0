import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes operators filter on in the Temporal UI and CLI, for example
// `temporal workflow list --query "HookSyncStatus='failing'"`. Values are stored unencrypted
// by Temporal's visibility store: ids and statuses only, never names or emails.
export const orgIdKey = defineSearchAttributeKey('HookOrgId', SearchAttributeType.KEYWORD);
export const tenantIdKey = defineSearchAttributeKey('HookTenantId', SearchAttributeType.KEYWORD);
export const connectionIdKey = defineSearchAttributeKey('HookConnectionId', SearchAttributeType.KEYWORD);
export const syncStatusKey = defineSearchAttributeKey('HookSyncStatus', SearchAttributeType.KEYWORD);
export const lastSyncTimeKey = defineSearchAttributeKey('HookLastSyncTime', SearchAttributeType.DATETIME);

export const searchAttributeKeys = [orgIdKey, tenantIdKey, connectionIdKey, syncStatusKey, lastSyncTimeKey];

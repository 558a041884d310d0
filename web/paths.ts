/** The seed's paths, in one place: routes mount these, and views link with `it.paths`. */
export const INTEGRATIONS = '/org/settings/integrations';
export const CALLBACK_PATH = `${INTEGRATIONS}/microsoft-entra/callback`;
export const CONNECT = `${INTEGRATIONS}/microsoft-entra/connect`;
export const GROUPS = `${INTEGRATIONS}/microsoft-entra/groups`;
export const PREVIEW = `${INTEGRATIONS}/microsoft-entra/preview`;
export const CONNECTION = `${INTEGRATIONS}/connections/:connectionId`;
export const ONBOARDING_STATUS = `${INTEGRATIONS}/onboarding/:workflowId/status`;
export const SWITCH_ORG = '/org/switch';
export const API_KEYS = '/org/settings/api-keys';
export const WEBHOOKS = '/org/settings/webhooks';

const connectionBase = (connectionId: string) => `${INTEGRATIONS}/connections/${encodeURIComponent(connectionId)}`;
const withQuery = (path: string, query: Record<string, string>) => `${path}?${new URLSearchParams(query).toString()}`;

/** Links as views and redirects write them. */
export const paths = {
  integrations: INTEGRATIONS,
  connect: CONNECT,
  switchOrg: SWITCH_ORG,
  apiKeys: API_KEYS,
  revokeApiKey: (keyId: string) => `${API_KEYS}/${encodeURIComponent(keyId)}/revoke`,
  webhooks: WEBHOOKS,
  webhookAction: (endpointId: string, action: 'pause' | 'resume' | 'delete' | 'roll-secret') => `${WEBHOOKS}/${encodeURIComponent(endpointId)}/${action}`,
  groups: GROUPS,
  groupSearch: `${GROUPS}/search`,
  groupsPreview: `${GROUPS}/preview`,
  save: `${PREVIEW}/save`,
  /** The Integrations page with this connection's pane open (a plain page: it works without JavaScript). */
  pane: (connectionId: string, tab: 'groups' | 'users' | 'runs' = 'groups', users: { q?: string; afterName?: string; afterId?: string } = {}) =>
    withQuery(INTEGRATIONS, { expand: connectionId, ...(tab === 'groups' ? {} : { tab }), ...Object.fromEntries(Object.entries(users).filter(([, value]) => value !== undefined)) }),
  paneRegion: (connectionId: string) => `${connectionBase(connectionId)}/pane`,
  syncStatus: (connectionId: string) => `${connectionBase(connectionId)}/sync-status`,
  users: (connectionId: string) => `${connectionBase(connectionId)}/users`,
  usersCsv: (connectionId: string) => `${connectionBase(connectionId)}/users.csv`,
  runs: (connectionId: string) => `${connectionBase(connectionId)}/runs`,
  userHistory: (connectionId: string, userId: string) => `${connectionBase(connectionId)}/users/${encodeURIComponent(userId)}/history`,
  groupHistory: (connectionId: string, groupId: string) => `${connectionBase(connectionId)}/groups/${encodeURIComponent(groupId)}/history`,
  connectionAction: (connectionId: string, action: 'sync-now' | 'confirm-removals' | 'disconnect') => `${connectionBase(connectionId)}/${action}`,
  picker: (connectionId: string) => withQuery(GROUPS, { connection: connectionId }),
  preview: (connectionId: string) => withQuery(PREVIEW, { connection: connectionId }),
  onboarding: (workflowId: string) => withQuery(INTEGRATIONS, { onboarding: workflowId }),
  onboardingStatus: (workflowId: string) => `${INTEGRATIONS}/onboarding/${encodeURIComponent(workflowId)}/status`,
};

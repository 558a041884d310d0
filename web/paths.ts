/** The seed's paths, in one place (routes and views link to each other). */
export const INTEGRATIONS = '/org/settings/integrations';
export const CALLBACK_PATH = `${INTEGRATIONS}/microsoft-entra/callback`;
export const GROUPS = `${INTEGRATIONS}/microsoft-entra/groups`;
export const PREVIEW = `${INTEGRATIONS}/microsoft-entra/preview`;
export const CONNECTION = `${INTEGRATIONS}/connections/:connectionId`;

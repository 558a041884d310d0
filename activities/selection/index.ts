import type { EntraClients } from '../graph/clients.js';
import { createPickerActivities } from './picker.js';
import { createPreviewActivities } from './preview.js';
import { createSaveActivities, type SelectionDeps } from './save.js';

export type { SelectionDeps };

/** The group selection's activities: the picker's list and search, the preview's reads, and the save. */
export function createSelectionActivities(deps: SelectionDeps & { entra: EntraClients }) {
  return { ...createPickerActivities(deps), ...createPreviewActivities(deps), ...createSaveActivities(deps) };
}

import type { SyncLauncher } from '../../lib/sync-launcher.js';
import type { Access } from '../access.js';
import type { AppDeps } from '../app.js';
import type { createPaneService } from '../services/pane.js';
import type { Views } from '../views.js';

/** What every route module is built over: the app's clients and the web's shared pieces. */
export type RouteDeps = AppDeps & {
  views: Views;
  access: Access;
  panes: ReturnType<typeof createPaneService>;
  launcher: SyncLauncher;
};

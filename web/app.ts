import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { Db } from '../db/client.js';
import type { Config } from '../lib/config.js';
import { scrubUrl, type Logger } from '../lib/logger.js';
import { healthRoutes } from './routes/health.js';
import type { PublicEntraSettings } from '../lib/entra-settings.js';
import { authRoutes } from './routes/auth.js';
import { groupsRoutes } from './routes/groups.js';
import { homeRoutes } from './routes/home.js';
import { integrationsRoutes } from './routes/integrations.js';
import { workspaceRoutes } from './routes/workspace.js';
import { historyRoutes } from './routes/history.js';
import { webhooksRoutes } from './routes/webhooks.js';
import { createAccess } from './access.js';
import { createPaneService } from './services/pane.js';
import { createSyncLauncher } from '../lib/sync-launcher.js';
import { syncSettings } from '../lib/config.js';
import { sessions } from './session.js';
import { createViews } from './views.js';
import { securityHeaders } from './security-headers.js';
import { createWebMetrics, type WebMetrics } from './metrics.js';
import { apiRoutes } from './api/routes.js';
import { apiKeysRoutes } from './routes/api-keys.js';

export interface AppDeps {
  config: Config;
  db: Db;
  temporal: Client;
  logger: Logger;
  entra: PublicEntraSettings;
  /** Request latency and connection state for Prometheus (web/main.ts serves them on WEB_METRICS_PORT). */
  metrics?: WebMetrics;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const htmxFile = require.resolve('htmx.org/dist/htmx.min.js');

/** The whole web app, not listening: web/main.ts listens, tests drive it directly. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // X-Forwarded-For is believed only from the proxies TRUST_PROXY names (Express's setting); by
  // default from nobody, so a client cannot choose the address sign-in throttling counts.
  const trustProxy = deps.config.TRUST_PROXY;
  app.set('trust proxy', trustProxy === undefined ? false : /^\d+$/.test(trustProxy) ? Number(trustProxy) : trustProxy.split(',').map((entry) => entry.trim()));
  const views = createViews(path.join(here, 'views'));
  app.locals.views = views; // for middleware that renders (the org check's "Switch to …?" page)

  app.use((deps.metrics ?? createWebMetrics(deps.db)).observe);

  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w.-]{8,128}$/.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // The URL of a consent callback, and the Location sent to Microsoft, carry states and codes.
      serializers: {
        req: (req: { url?: string; query?: unknown; params?: unknown }) => ({ ...req, url: req.url === undefined ? undefined : scrubUrl(req.url), query: undefined, params: undefined }),
        res: (res: { headers?: Record<string, unknown> }) => ({
          ...res,
          headers: res.headers && {
            ...res.headers,
            location: typeof res.headers.location === 'string' ? scrubUrl(res.headers.location) : res.headers.location,
            'hx-redirect': typeof res.headers['hx-redirect'] === 'string' ? scrubUrl(res.headers['hx-redirect']) : res.headers['hx-redirect'],
          },
        }),
      },
      // Probes hit these every few seconds; logging them drowns everything else.
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    }),
  );
  // Forms may lead to Microsoft's consent page (a 303 after Connect), nowhere else.
  app.use(securityHeaders([new URL(deps.entra.consentOrigin).origin], { https: deps.config.PUBLIC_URL.startsWith('https:') }));

  // Assets come from the app itself, never a CDN.
  app.get('/assets/htmx.min.js', (_req, res) => res.sendFile(htmxFile, { maxAge: '1d' }));
  app.use('/assets', express.static(path.join(here, 'public'), { maxAge: '1h', index: false }));

  app.use(healthRoutes(deps));
  // The directory API authenticates by API key, before (and never through) sessions and CSRF.
  app.use(apiRoutes(deps.db, deps.config.PUBLIC_URL));

  if (deps.config.SESSION_SECRET === undefined) throw new Error('createApp needs config.SESSION_SECRET');
  const session = sessions({ db: deps.db, secret: deps.config.SESSION_SECRET, secure: deps.config.PUBLIC_URL.startsWith('https:') });
  // Room for a picker form with every group checked (MAX_SELECTION ids of 36 characters).
  app.use(express.urlencoded({ extended: false, limit: '512kb', parameterLimit: 5_100 }));
  // A body no form sends (JSON, text) is not parsed: routes see an empty form, never undefined.
  app.use((req, _res, next) => {
    req.body ??= {};
    next();
  });
  app.use(session.load);
  app.use(session.verifyCsrf);
  app.use(authRoutes({ ...deps, views, session }));
  app.use(homeRoutes({ ...deps, views }));
  const routeDeps = { ...deps, views, access: createAccess(deps.db, views), panes: createPaneService(deps), launcher: createSyncLauncher(deps.temporal, deps.config.TEMPORAL_TASK_QUEUE, syncSettings(deps.config)) };
  app.use(integrationsRoutes(routeDeps));
  app.use(groupsRoutes(routeDeps));
  app.use(workspaceRoutes(routeDeps));
  app.use(historyRoutes(routeDeps));
  app.use(apiKeysRoutes(routeDeps));
  app.use(webhooksRoutes(routeDeps));

  app.use((_req, res) => {
    res.status(404).send(views.render('error', { ...res.locals, title: 'Not found', message: 'There is nothing at this address.' }));
  });
  // Last resort: log the cause with the request id, show the person nothing internal.
  const onError: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    // Malformed or oversized bodies (from the body parser) are the client's error: say so, as a 4xx.
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).send(views.render('error', { ...res.locals, title: 'That request could not be read', message: 'The form was malformed or too large. Go back and try again.' }));
      return;
    }
    req.log.error({ err: error }, 'request failed');
    if (res.headersSent) return;
    res.status(500).send(
      views.render('error', {
        ...res.locals,
        title: 'Something went wrong',
        message: `Hook could not complete this request. Reference: ${typeof req.id === 'string' ? req.id : 'none'}`,
      }),
    );
  };
  app.use(onError);
  return app;
}

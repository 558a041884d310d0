import express, { type Express, type Request, type Response } from 'express';
import { controlRoutes } from './control.js';
import { Directory } from './directory.js';
import { defaultFaults, latencyOf, type FaultSettings } from './faults.js';
import { handleBatch } from './graph/batch.js';
import type { GraphResponse } from './graph/respond.js';
import { GraphService } from './graph/service.js';
import { SignInService } from './login/oidc.js';
import { loginRoutes } from './login/routes.js';
import type { World } from './model.js';
import { RequestLog } from './request-log.js';
import { ResourceUnitThrottle } from './throttle.js';
import { TokenIssuer } from './tokens.js';

export interface EmulatorState {
  directory: Directory;
  tokens: TokenIssuer;
  signIn: SignInService;
  throttle: ResourceUnitThrottle;
  faults: FaultSettings;
  log: RequestLog;
  graph: GraphService;
}

export function createEmulatorState(world: World, tokenLifetimeSeconds = 3599): EmulatorState {
  const directory = new Directory(world);
  const tokens = new TokenIssuer(tokenLifetimeSeconds);
  const throttle = new ResourceUnitThrottle();
  const faults = defaultFaults();
  const log = new RequestLog();
  return { directory, tokens, signIn: new SignInService(directory), throttle, faults, log, graph: new GraphService(directory, tokens, throttle, faults, log) };
}

export interface EmulatorAppOptions {
  /** Serve the control API under /_emulator (tests and demos only). */
  control: boolean;
}

/** One Express app answers as both login.microsoftonline.com and graph.microsoft.com (paths do not overlap). */
export function createEmulatorApp(state: EmulatorState, options: EmulatorAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  const wait = (ms: number) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined);
  // A $batch waits once its items are known (below); every other request here.
  app.use(async (req, _res, next) => {
    if (!(req.method === 'POST' && req.path === '/v1.0/$batch')) await wait(latencyOf(state.faults));
    next();
  });

  if (options.control) app.use('/_emulator', controlRoutes(state));

  // An outage: Graph's connections drop with no answer at all, as when the network is down.
  app.use(['/v1.0'], (req, _res, next) => {
    if (!state.faults.graphUnreachable) return next();
    req.socket.destroy();
  });

  const graphOrigin = (req: Request) => `https://${req.headers.host ?? 'graph.microsoft.com'}`;
  app.post('/v1.0/\\$batch', express.json({ limit: '4mb' }), async (req, res) => {
    const items = (req.body as { requests?: unknown } | undefined)?.requests;
    await wait(latencyOf(state.faults, Array.isArray(items) ? items.length : 0));
    const started = Date.now();
    const headers = lowerCaseHeaders(req);
    const authorized = state.graph.authorize(headers);
    if ('status' in authorized) {
      state.graph.logBatch(authorized.status, undefined, Date.now() - started);
      return send(res, authorized);
    }
    const seq = state.graph.logBatch(200, authorized.tenant.id, 0);
    send(res, handleBatch(state.graph, req.body, headers, `${graphOrigin(req)}/v1.0`, seq));
  });
  app.use('/v1.0', (req, res) => {
    const url = new URL(req.originalUrl, 'https://graph.invalid');
    const path = url.pathname.replace(/^\/v1\.0/, '') || '/';
    send(res, state.graph.handle({ method: req.method, path, query: url.searchParams, headers: lowerCaseHeaders(req) }, `${graphOrigin(req)}/v1.0`));
  });

  app.use(loginRoutes({ directory: state.directory, tokens: state.tokens, signIn: state.signIn, log: state.log, graphResource: () => ['https://graph.microsoft.com'], faults: state.faults }));
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NotFound', message: 'The emulator serves login and Graph v1.0 paths only.' } });
  });
  return app;
}

function lowerCaseHeaders(req: Request): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

function send(res: Response, response: GraphResponse): void {
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) if (value !== '') res.setHeader(name, value);
  const type = response.headers['Content-Type'] ?? '';
  if (response.body === null || response.body === undefined) res.end();
  else if (typeof response.body === 'string' && !type.startsWith('application/json')) res.end(response.body);
  else res.end(JSON.stringify(response.body));
}

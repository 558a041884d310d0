import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createEmulatorApp, createEmulatorState, type EmulatorState } from './app.js';
import type { World } from './model.js';
import { loadOrCreateTls } from './tls.js';

export interface StartEmulatorOptions {
  world: World;
  tlsDir: string;
  host?: string;
  /** 0 picks a free port. */
  httpsPort?: number;
  /** A plain-http listener for the consent pages people's browsers open (no certificate warning). */
  httpPort?: number;
  control?: boolean;
  tokenLifetimeSeconds?: number;
  hostNames?: string[];
}

export interface RunningEmulator extends EmulatorState {
  /** https origin for MSAL and the Graph client, e.g. https://localhost:8443 */
  httpsUrl: string;
  /** http origin for browsers (the admin-consent page), when a plain listener was asked for. */
  httpUrl?: string;
  ca: string;
  caFile: string;
  close: () => Promise<void>;
}

export async function startEmulator(options: StartEmulatorOptions): Promise<RunningEmulator> {
  const state = createEmulatorState(options.world, options.tokenLifetimeSeconds);
  const app = createEmulatorApp(state, { control: options.control ?? false });
  const tls = await loadOrCreateTls(options.tlsDir, options.hostNames);
  const host = options.host ?? '127.0.0.1';
  const secure = https.createServer({ key: tls.key, cert: tls.cert, keepAliveTimeout: 30_000 }, app);
  const httpsPort = await listen(secure, options.httpsPort ?? 0, host);
  let plain: http.Server | undefined;
  let httpPort: number | undefined;
  if (options.httpPort !== undefined) {
    plain = http.createServer(app);
    httpPort = await listen(plain, options.httpPort, host);
  }
  const displayHost = host === '127.0.0.1' || host === '0.0.0.0' ? 'localhost' : host;
  return {
    ...state,
    httpsUrl: `https://${displayHost}${httpsPort === 443 ? '' : `:${httpsPort}`}`,
    httpUrl: httpPort === undefined ? undefined : `http://${displayHost}:${httpPort}`,
    ca: tls.ca,
    caFile: tls.caFile,
    close: async () => {
      await Promise.all([close(secure), plain ? close(plain) : Promise.resolve()]);
    },
  };
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

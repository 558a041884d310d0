import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { createEntraClients } from '../../activities/graph/clients.js';
import { addAccountCommand, createOrgCommand } from '../../cli/commands.js';
import type { Db } from '../../db/client.js';
import { emulatorEntraSettings } from '../../emulator/demo.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { loadConfig } from '../../lib/config.js';
import { withoutSecret, type EntraSettings } from '../../lib/entra-settings.js';
import { createLogger, type Logger } from '../../lib/logger.js';
import { createApp } from '../../web/app.js';
import { listen, type RunningServer } from '../../web/server.js';
import { createEventsListener } from '../../lib/events-listener.js';
import { createWorker } from '../../worker/worker.js';
import { TEST_DATA_KEY, testWebhookSecrets } from './secrets.js';

export const TEST_SECRET = 'test-session-secret-0123456789-abcdefghij';
export const PASSWORD = 'correct horse battery staple';

export function entraFor(emulator: RunningEmulator | undefined): EntraSettings {
  return emulator
    ? emulatorEntraSettings(emulator.httpsUrl, emulator.httpUrl)
    : { clientId: '00000000-0000-4000-8000-000000000001', clientSecret: 'unused-secret', loginOrigin: 'https://login.example', graphOrigin: 'https://graph.example', graphResource: 'https://graph.microsoft.com', consentOrigin: 'https://login.example', emulator: false };
}

/** The web app on a free port, configured like production but for the test's own task queue. */
export async function startTestApp(options: {
  db: Db;
  temporal: Client;
  taskQueue?: string;
  emulator?: RunningEmulator;
  /** Listen here, and tell Microsoft this is where to come back (browser tests); else a free port. */
  port?: number;
  logger?: Logger;
  /** More settings, as the environment would give them (TRUST_PROXY, PUBLIC_URL, …). */
  env?: Record<string, string>;
}): Promise<RunningServer & { url: string }> {
  const publicUrl = options.port === undefined ? 'http://localhost:3000' : `http://localhost:${options.port}`;
  const server = await listen(
    createApp({
      config: loadConfig({ SESSION_SECRET: TEST_SECRET, DATA_ENCRYPTION_KEY: TEST_DATA_KEY, TEMPORAL_TASK_QUEUE: options.taskQueue ?? 'unused', PUBLIC_URL: publicUrl, ...options.env }),
      db: options.db,
      temporal: options.temporal,
      logger: options.logger ?? createLogger('silent', 'test'),
      entra: withoutSecret(entraFor(options.emulator)),
    }),
    options.port ?? 0,
    '127.0.0.1',
  );
  return { ...server, url: options.port === undefined ? `http://127.0.0.1:${server.port}` : publicUrl };
}

/** The product's worker (real workflows and activities) against the emulator. */
export function createTestWorker(options: {
  db: Db;
  nativeConnection: NativeConnection;
  client: Client;
  taskQueue: string;
  emulator: RunningEmulator;
  entra?: Partial<EntraSettings>;
  clock?: () => Date;
  /** The test database's URL: deliveries wake on NOTIFY (else they look every half second). */
  databaseUrl?: string;
}) {
  return createWorker({
    failOnNondeterminism: true,
    connection: options.nativeConnection,
    namespace: 'default',
    taskQueue: options.taskQueue,
    deps: {
      db: options.db,
      entra: createEntraClients({ ...entraFor(options.emulator), ...options.entra }),
      temporal: { client: options.client, taskQueue: options.taskQueue },
      ...(options.clock ? { clock: options.clock } : {}),
      // The tests' receivers listen on loopback.
      webhooks: { allowPrivateTargets: true, timeoutMs: 2_000, secrets: testWebhookSecrets, ...(options.databaseUrl ? { listener: createEventsListener(options.databaseUrl) } : {}) },
    },
  });
}

/** An org with an admin and a plain member (and the admin also in a second org). */
export async function seedOrgs(db: Db, prefix: string) {
  await createOrgCommand(db, `${prefix}-acme`, 'Acme Ltd');
  await createOrgCommand(db, `${prefix}-globex`, 'Globex Corp');
  const admin = { email: `admin@${prefix}.test`, password: PASSWORD };
  const member = { email: `member@${prefix}.test`, password: PASSWORD };
  const outsider = { email: `outsider@${prefix}.test`, password: PASSWORD };
  await addAccountCommand(db, { orgSlug: `${prefix}-acme`, email: admin.email, displayName: 'Ada Admin', role: 'admin', password: PASSWORD });
  await addAccountCommand(db, { orgSlug: `${prefix}-globex`, email: admin.email, displayName: 'Ada Admin', role: 'admin', password: PASSWORD });
  await addAccountCommand(db, { orgSlug: `${prefix}-acme`, email: member.email, displayName: 'Max Member', role: 'member', password: PASSWORD });
  await addAccountCommand(db, { orgSlug: `${prefix}-globex`, email: outsider.email, displayName: 'Olga Outsider', role: 'admin', password: PASSWORD });
  return { admin, member, outsider, acme: `${prefix}-acme`, globex: `${prefix}-globex` };
}

/** A tiny browser: keeps cookies, reads the CSRF token from pages, never follows redirects. */
export class Browser {
  private cookies = new Map<string, string>();
  csrf = '';

  constructor(private readonly base: string) {}

  async request(path: string, init: { method?: string; form?: Record<string, string>; body?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size > 0) headers.Cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    let body = init.body;
    if (init.form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(new URL(path, this.base), { method: init.method ?? (init.form || init.body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, value] = pair!.split('=') as [string, string];
      if (/Max-Age=0/.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
    if (token) this.csrf = token;
    return { status: response.status, location: response.headers.get('location'), headers: response.headers, text };
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async signIn(email: string, password = PASSWORD) {
    await this.request('/sign-in');
    return this.request('/sign-in', { form: { _csrf: this.csrf, email, password } });
  }

  /** A state-changing request with the page's CSRF token, as the forms send it. */
  post(path: string, form: Record<string, string> = {}, headers: Record<string, string> = {}) {
    return this.request(path, { form: { _csrf: this.csrf, ...form }, headers });
  }
}

/** The preview page's Save form fields (save id, and the preview and version it saves), as a browser would send them. */
export function saveFields(html: string): Record<string, string> {
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
  return { saveId: field('saveId'), previewId: field('previewId'), baseVersion: field('baseVersion') };
}

import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type Db } from '../../db/client.js';
import { loadConfig } from '../../lib/config.js';
import { createLogger } from '../../lib/logger.js';
import { createApp } from '../../web/app.js';
import { listen, type RunningServer } from '../../web/server.js';
import { withoutSecret } from '../../lib/entra-settings.js';
import { entraFor, TEST_SECRET } from '../support/app.js';
import { TEST_DATA_KEY } from '../support/secrets.js';

describe('web shell', () => {
  let server: RunningServer;
  let base: string;
  let db: Db;
  beforeAll(async () => {
    db = createDb(inject('postgresAdminUrl'));
    const temporal = new Client({ connection: Connection.lazy({ address: inject('temporalAddress') }) });
    server = await listen(
      createApp({ config: loadConfig({ SESSION_SECRET: TEST_SECRET, DATA_ENCRYPTION_KEY: TEST_DATA_KEY }), db, temporal, logger: createLogger('silent', 'test'), entra: withoutSecret(entraFor(undefined)) }),
      0,
      '127.0.0.1',
    );
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
    await db.destroy();
  });

  it('renders pages in the layout, loading only its own assets', async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<h1>Directory sync</h1>');
    expect(html).toContain('<script src="/assets/htmx.min.js" defer></script>');
    expect(html).toContain('<link rel="stylesheet" href="/assets/app.css">');
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
  });

  it('serves htmx and the stylesheet itself', async () => {
    const htmx = await fetch(`${base}/assets/htmx.min.js`);
    expect(htmx.status).toBe(200);
    expect(htmx.headers.get('content-type')).toMatch(/javascript/);
    expect(await htmx.text()).toContain('htmx');
    const css = await fetch(`${base}/assets/app.css`);
    expect(css.headers.get('content-type')).toMatch(/text\/css/);
  });

  it('sends a CSP without inline code or other origins, and a request id', async () => {
    const response = await fetch(`${base}/`, { headers: { 'X-Request-Id': 'trace-1234-abcd' } });
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    // No other origin anywhere, except that forms may lead to Microsoft's consent page (Connect's 303).
    const directives = Object.fromEntries(csp.split('; ').map((directive) => [directive.split(' ')[0], directive]));
    for (const [name, directive] of Object.entries(directives)) if (name !== 'form-action') expect(directive).not.toMatch(/https?:/);
    expect(directives['form-action']).toBe("form-action 'self' https://login.example");
    expect(response.headers.get('x-request-id')).toBe('trace-1234-abcd');
    const generated = await fetch(`${base}/healthz`, { headers: { 'X-Request-Id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown paths with a 404 page', async () => {
    const response = await fetch(`${base}/no/such/page`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('There is nothing at this address.');
  });
});

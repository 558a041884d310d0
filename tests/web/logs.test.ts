import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADMIN_UPN, DEMO_APP_SECRET, DEMO_TENANT_ID, demoTenant } from '../../emulator/demo.js';
import { createLogger, scrubUrl } from '../../lib/logger.js';
import { temporalLogger } from '../../lib/temporal-logger.js';
import { Browser, PASSWORD } from '../support/app.js';
import { MicrosoftSide, relative } from '../support/microsoft.js';
import { startProductStack, type ProductStack } from '../support/stack.js';
import { installRuntimeLogger } from '../support/temporal.js';

/** Every line a logger writes, kept for the test to read (as an attacker with log access would). */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe('logs hold no session cookie, consent state, code, token or secret', () => {
  const web = capture();
  const worker = capture();
  let stack: ProductStack;

  beforeAll(async () => {
    // Trace level: the most a debugging operator would ever switch on.
    installRuntimeLogger(temporalLogger(createLogger('trace', 'worker', worker.stream)));
    stack = await startProductStack({ prefix: 'logs', tenants: [demoTenant()], logger: createLogger('trace', 'web', web.stream) });
  });
  afterAll(() => stack?.stop());

  it('signs in, runs Connect to the end and finds none of the values it saw in any log line', async () => {
    const secrets = new Map<string, string>();
    const browser = new Browser(stack.app.url);
    await browser.signIn(stack.people.admin.email);
    secrets.set('session cookie', browser.cookie('hook_session')!);
    await browser.request('/org/settings/integrations');
    secrets.set('CSRF token', browser.csrf);

    const microsoft = new MicrosoftSide();
    const connect = await browser.post('/org/settings/integrations/microsoft-entra/connect');
    const authorize = new URL(connect.location!);
    secrets.set('sign-in state', authorize.searchParams.get('state')!);
    secrets.set('nonce', authorize.searchParams.get('nonce')!);
    secrets.set('PKCE challenge', authorize.searchParams.get('code_challenge')!);
    const row = await stack.database.db.selectFrom('consent_requests').select('code_verifier').where('phase', '=', 'sign_in').executeTakeFirstOrThrow();
    secrets.set('PKCE verifier', row.code_verifier!);
    const signedIn = await microsoft.signIn(connect.location!, DEMO_ADMIN_UPN);
    secrets.set('authorization code', signedIn.searchParams.get('code')!);
    const proven = await browser.request(relative(signedIn));
    const consentUrl = new URL(proven.location!);
    secrets.set('consent state', consentUrl.searchParams.get('state')!);
    const consented = await browser.request(relative(await microsoft.consent(proven.location!, DEMO_TENANT_ID)));
    expect(consented.location).toMatch(/onboarding=/);
    const workflowId = new URL(consented.location!, stack.app.url).searchParams.get('onboarding')!;
    await stack.temporal.client.workflow.getHandle(workflowId).result();
    // An API key: created in Settings, then used (and once refused) on the directory API.
    await browser.request('/org/settings/api-keys');
    const created = await browser.post('/org/settings/api-keys', { name: 'Logged service' });
    const apiKey = /value="(hds_[\w-]{43})"/.exec(created.text)![1]!;
    secrets.set('API key', apiKey);
    expect((await fetch(`${stack.app.url}/api/v1/users`, { headers: { Authorization: `Bearer ${apiKey}` } })).status).toBe(200);
    expect((await fetch(`${stack.app.url}/api/v1/users`, { headers: { Authorization: `Bearer ${apiKey.slice(0, -1)}x` } })).status).toBe(401);
    secrets.set('API key, altered', `${apiKey.slice(0, -1)}x`);
    // A webhook endpoint: its signing secret, shown once in Settings.
    await browser.request('/org/settings/webhooks');
    const hook = await browser.post('/org/settings/webhooks', { url: 'https://hooks.example.com/logged' });
    secrets.set('webhook signing secret', /id="new-secret"[^>]*value="(whsec_[\w-]{43})"/.exec(hook.text)![1]!);
    // … and the one Roll secret gives it.
    const [, rollPath, seen] = /action="([^"]*\/roll-secret)"[^>]*>.*?name="seen" value="([0-9a-f]{16})"/.exec((await browser.request('/org/settings/webhooks')).text)!;
    const rolled = await browser.post(rollPath!, { seen: seen! });
    secrets.set('rolled webhook signing secret', /id="new-secret"[^>]*value="(whsec_[\w-]{43})"/.exec(rolled.text)![1]!);
    await browser.request('/sign-in', { form: { _csrf: 'forged' } }); // a refused request is logged too
    secrets.set('client secret', DEMO_APP_SECRET);
    secrets.set('password', PASSWORD);

    expect(web.lines.length).toBeGreaterThan(5);
    expect(worker.lines.length).toBeGreaterThan(0);
    // The callback and the redirects to Microsoft were logged, scrubbed.
    expect(web.lines.some((line) => line.includes('/microsoft-entra/callback?') && line.includes('[REDACTED]'))).toBe(true);
    expect(web.lines.some((line) => line.includes('"cookie":"[REDACTED]"'))).toBe(true);
    const leaks = [...secrets].flatMap(([what, value]) => [...web.lines, ...worker.lines].filter((line) => line.includes(value)).map((line) => `${what}: ${line.slice(0, 200)}`));
    expect(leaks).toEqual([]);
  });

  it('scrubUrl replaces the values of every secret-bearing parameter and keeps the rest', () => {
    expect(scrubUrl('/cb?code=abc&state=def&tenant=t1#x')).toBe('/cb?code=[REDACTED]&state=[REDACTED]&tenant=t1#x');
    expect(scrubUrl('https://login/x?client_id=c&nonce=n&code_challenge=cc&redirect_uri=r')).toBe('https://login/x?client_id=c&nonce=[REDACTED]&code_challenge=[REDACTED]&redirect_uri=r');
  });
});

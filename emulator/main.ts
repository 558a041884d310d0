import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dataDir } from '../lib/paths.js';
import { DEMO_APP_ID, DEMO_APP_SECRET, demoTenant, hookApplication } from './demo.js';
import { generateTenant, HUGE_TENANT, LARGE_TENANT } from './generate.js';
import { parseWorld, WorldError, type WorldInput } from './model.js';
import { DEFAULT_HOST_NAMES } from './tls.js';
import { startEmulator } from './server.js';

/**
 * `npm run emulator -- [options]`: Microsoft's sign-in and Graph for any number of tenants.
 * See emulator/README.md.
 */
const { values } = parseArgs({
  options: {
    world: { type: 'string' },
    demo: { type: 'boolean', default: false },
    generate: { type: 'string', multiple: true, default: [] },
    port: { type: 'string', default: '8443' },
    'http-port': { type: 'string', default: '8400' },
    host: { type: 'string', default: '127.0.0.1' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    control: { type: 'boolean', default: false },
    'as-microsoft': { type: 'boolean', default: false },
    'token-lifetime': { type: 'string', default: '3599' },
    'tls-dir': { type: 'string', default: path.join(dataDir, 'emulator') },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`Usage: npm run emulator -- [options]
  --world FILE          tenants and applications in JSON (emulator/README.md); default: the demo world
  --demo                add the demo tenant and Hook's demo app registration (default without --world)
  --generate NAME       add a generated tenant: large (100,000 users, 1,000 groups), huge (300,000 users, 3,000 groups) or many-groups (1,500 groups)
  --port N              https port (default 8443; 443 with --as-microsoft)
  --http-port N         plain-http port for browser pages such as admin consent (default 8400)
  --redirect-uri URL    a redirect URI for the demo app (repeatable)
  --control             serve the control API under /_emulator (tests and demos only)
  --as-microsoft        answer as login.microsoftonline.com and graph.microsoft.com on port 443
  --token-lifetime S    access token lifetime in seconds (default 3599)`);
  process.exit(0);
}

try {
  const input: WorldInput = values.world ? (JSON.parse(await fs.readFile(values.world, 'utf8')) as WorldInput) : {};
  const applications = [...(input.applications ?? [])];
  const tenants = [...(input.tenants ?? [])];
  if (values.demo || values.world === undefined) {
    const redirectUris = values['redirect-uri'].length > 0 ? values['redirect-uri'] : ['http://localhost:3000/org/settings/integrations/microsoft-entra/callback'];
    applications.push(hookApplication(redirectUris));
    tenants.push(demoTenant());
  }
  for (const name of values.generate) {
    if (name === 'large') tenants.push(generateTenant(LARGE_TENANT));
    else if (name === 'huge') tenants.push(generateTenant(HUGE_TENANT));
    else if (name === 'many-groups') tenants.push(generateTenant({ ...LARGE_TENANT, seed: 1_500, displayName: 'Tailspin Many Groups', domain: 'tailspin.example', users: 5_000, groups: 1_500, membersPerGroup: 40 }));
    else throw new WorldError(`--generate ${name}: expected large, huge or many-groups`);
  }
  const world = parseWorld({ applications, tenants });
  const asMicrosoft = values['as-microsoft'];
  const emulator = await startEmulator({
    world,
    tlsDir: values['tls-dir'],
    host: values.host,
    httpsPort: asMicrosoft ? 443 : Number(values.port),
    httpPort: Number(values['http-port']),
    control: values.control,
    tokenLifetimeSeconds: Number(values['token-lifetime']),
    hostNames: DEFAULT_HOST_NAMES,
  });
  console.log(`Entra emulator (not Microsoft)
  login and Graph (https): ${emulator.httpsUrl}   e.g. ${emulator.httpsUrl}/v1.0/organization
  browser pages (http):    ${emulator.httpUrl ?? '-'}
  trust this CA:           ${emulator.caFile}
  control API:             ${values.control ? `${emulator.httpsUrl}/_emulator` : 'off (start with --control)'}
  tenants:                 ${world.tenants.map((tenant) => `${tenant.displayName} ${tenant.id} (${tenant.users.length} users, ${tenant.groups.length} groups)`).join('\n                           ')}`);
  if (values.demo || values.world === undefined) console.log(`  demo app:                client id ${DEMO_APP_ID}, secret ${DEMO_APP_SECRET}`);
  if (asMicrosoft) {
    console.log(`  hosts file:              ${values.host} login.microsoftonline.com graph.microsoft.com`);
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void emulator.close().then(() => process.exit(0)));
} catch (error) {
  console.error(error instanceof WorldError ? `Invalid world: ${error.message}` : error);
  process.exit(1);
}

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addAccountCommand, createOrgCommand } from '../../cli/commands.js';
import { Client, Connection } from '@temporalio/client';
import { upsertConnection } from '../../db/repositories/connections.js';
import { DEMO_ADMIN_UPN, DEMO_APP_ID, DEMO_APP_SECRET, DEMO_TENANT_ID, demoTenant, hookApplication, HOOK_APP_ROLES } from '../../emulator/demo.js';
import { generateTenant } from '../../emulator/generate.js';
import { stableId } from '../../emulator/ids.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { projectRoot } from '../../lib/paths.js';
import { createSyncLauncher, type SyncTarget } from '../../lib/sync-launcher.js';
import { directorySyncWorkflowId } from '../../workflows/sync/messages.js';
import { Browser, PASSWORD, saveFields } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { compareWithDirectory } from '../support/expected-state.js';
import { startTestEmulator } from '../support/emulator.js';
import { connectOverHttp } from '../support/microsoft.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const GROUPS = '/org/settings/integrations/microsoft-entra/groups';
const group = (key: string) => stableId('northwind', 'group', key);

/** Twenty small customers, consented, for the two workers to share. */
const FLEET = Array.from({ length: 20 }, (_, i) =>
  generateTenant({
    seed: 4_000 + i,
    displayName: `Fleet ${i}`,
    domain: `fleet${i}.example`,
    users: 80,
    groups: 4,
    membersPerGroup: 30,
    nestedShare: 0,
    guestShare: 0.05,
    disabledShare: 0.05,
    sharedMailboxShare: 0,
    hiddenShare: 0,
    servicePrincipals: [{ appId: DEMO_APP_ID, appRoles: HOOK_APP_ROLES }],
  }),
);

/** A production process from dist/, as `npm run web|worker` starts it, with its output kept. */
function start(entry: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [entry], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

/**
 * The product as an operator runs it: `npm run build`, `npm run migrate`, then the worker (with
 * the prebuilt workflow bundle) and the web as their own processes from dist/, in production
 * mode, reaching the emulator through the hosts and trust anchor a national-cloud deployment
 * would configure. An admin then picks, previews and saves over HTTP, the first sync runs, and
 * SIGTERM stops both cleanly.
 */
describe('the production shape', () => {
  let database: TestDatabase;
  let emulator: RunningEmulator;
  let env: NodeJS.ProcessEnv;
  let worker: ReturnType<typeof start> | undefined;
  let web: ReturnType<typeof start> | undefined;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // Northwind has not consented yet: the admin grants it through Connect, as a new customer does.
    [database, emulator] = await Promise.all([
      createTestDatabase({ migrate: false }),
      startTestEmulator({ applications: [hookApplication([`${url}/org/settings/integrations/microsoft-entra/callback`])], tenants: [demoTenant(), ...FLEET] }),
    ]);
    const caFile = path.join(await mkdtemp(path.join(tmpdir(), 'hook-prod-ca-')), 'emulator-ca.pem');
    await writeFile(caFile, emulator.ca);
    const entraHost = new URL(emulator.httpsUrl).host;
    env = {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: `production-shape-${randomBytes(4).toString('hex')}`,
      ENTRA_CLIENT_ID: DEMO_APP_ID,
      ENTRA_CLIENT_SECRET: DEMO_APP_SECRET,
      ENTRA_LOGIN_HOST: entraHost,
      ENTRA_GRAPH_HOST: entraHost,
      NODE_EXTRA_CA_CERTS: caFile, // the trust anchor, as an operator adds a corporate or sovereign-cloud CA
      SESSION_SECRET: randomBytes(32).toString('base64url'),
      PUBLIC_URL: url,
      PORT: String(port),
    };
    await run('npm', ['run', 'build'], { cwd: projectRoot, env, maxBuffer: 16 * 1024 * 1024 });
  }, 240_000);
  const workers: Array<ReturnType<typeof start>> = [];
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    web?.child.kill('SIGKILL');
    for (const each of workers) each.child.kill('SIGKILL');
    await emulator?.close();
    await database?.drop();
  });

  it('builds, migrates, runs worker and web from dist/, walks Connect → pick → preview → save → first sync over HTTP, and drains on SIGTERM', async () => {
    const migrated = await run('npm', ['run', '-s', 'migrate'], { cwd: projectRoot, env });
    expect(migrated.stdout).toContain('0011_staged_user_rules');
    await createOrgCommand(database.db, 'prod-acme', 'Acme Ltd');
    await addAccountCommand(database.db, { orgSlug: 'prod-acme', email: 'admin@prod.test', displayName: 'Ada Admin', role: 'admin', password: PASSWORD });

    worker = start('dist/worker/main.js', env);
    web = start('dist/web/main.js', env);
    await waitFor(() => Promise.resolve(worker!.output().includes('worker started') ? true : undefined), 'the worker to start', 60_000);
    await waitFor(async () => ((await fetch(`${url}/readyz`).catch(() => undefined))?.ok ? true : undefined), 'the web to be ready', 60_000);
    expect(existsSync(path.join(projectRoot, 'dist', 'workflow-bundle.js'))).toBe(true); // the worker runs the prebuilt bundle
    expect(worker.output()).not.toContain('workflow bundle missing');

    const admin = new Browser(url);
    expect((await admin.signIn('admin@prod.test')).status).toBe(303);
    await admin.request('/org/settings/integrations');
    // Connect: Microsoft's sign-in as a Global Administrator, then the tenant's admin consent, each answered back at the callback.
    const connect = await connectOverHttp(admin, DEMO_TENANT_ID, DEMO_ADMIN_UPN);
    expect(new URL(connect.connect.location!).host).toBe(env.ENTRA_LOGIN_HOST); // the national-cloud login host, not login.microsoftonline.com
    expect(connect.afterConsent?.status).toBe(303);
    const connected = await waitFor(
      () => database.db.selectFrom('entra_connections').select('id').where('tenant_id', '=', DEMO_TENANT_ID).executeTakeFirst(),
      'the connection to be recorded',
      60_000,
    );
    const connectionId = connected.id;
    expect((await admin.post(GROUPS, { connection: connectionId })).status).toBe(303);
    await waitFor(async () => {
      const page = await admin.request(`${GROUPS}?connection=${connectionId}`);
      return page.text.includes('Loading groups from Microsoft Entra…') ? undefined : page;
    }, 'the picker to load', 60_000);
    const preview = await admin.post(`${GROUPS}/preview`, { connection: connectionId, baseVersion: '0', group: group('sales') });
    expect(preview.status).toBe(303);
    let last = '';
    const page = await waitFor(async () => {
      const shown = await admin.request(preview.location!);
      last = shown.text;
      return shown.text.includes('7 of 7 members') ? shown : undefined;
    }, 'the preview', 60_000).catch((error: unknown) => {
      throw new Error(`${String(error)} at ${preview.location}\n--- page ---\n${last.slice(0, 3000)}\n--- worker ---\n${worker!.output().slice(-3000)}`);
    });
    expect((await admin.post('/org/settings/integrations/microsoft-entra/preview/save', { connection: connectionId, ...saveFields(page.text) })).status).toBe(303);
    const users = await waitFor(async () => {
      const rows = await database.db.selectFrom('directory_users').select('display_name').where('connection_id', '=', connectionId).where('removed_at', 'is', null).execute();
      return rows.length === 7 ? rows : undefined;
    }, 'the first sync', 90_000);
    expect(users).toHaveLength(7);

    // SIGTERM: both drain and exit 0 (the worker finishes in-flight tasks, the web closes its server and pools).
    worker.child.kill('SIGTERM');
    web.child.kill('SIGTERM');
    expect(await web.exited).toBe(0);
    expect(await worker.exited).toBe(0);
    expect(web.output()).toContain('shutting down');
  }, 300_000);

  // Runs after the walk above, on the database it migrated.
  it('two worker processes on one task queue share twenty connections\' syncs, and every one finishes', async () => {
    for (let i = 0; i < 2; i++) workers.push(start('dist/worker/main.js', env));
    await waitFor(() => Promise.resolve(workers.every((each) => each.output().includes('worker started')) ? true : undefined), 'both workers to start', 60_000);

    const targets: SyncTarget[] = [];
    for (const [i, tenant] of FLEET.entries()) {
      const orgId = await createOrgCommand(database.db, `fleet-${i}`, `Fleet ${i}`);
      const connectionId = await upsertConnection(database.db, { orgId, tenantId: tenant.id, tenantName: tenant.displayName, verifiedDomains: [] });
      await database.db.insertInto('synced_groups').values(tenant.groups!.map((each) => ({ connection_id: connectionId, group_id: each.id, display_name: each.displayName }))).execute();
      targets.push({ orgId, connectionId, tenantId: tenant.id, tenantName: tenant.displayName });
    }
    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const launcher = createSyncLauncher(client, env.TEMPORAL_TASK_QUEUE!);
      await Promise.all(targets.map((target) => launcher.syncNow(target))); // as "Sync now" does for each

      const finished = () => database.db.selectFrom('sync_runs').select('connection_id').distinct().where('finished_at', 'is not', null).where('connection_id', 'in', targets.map((t) => t.connectionId)).execute();
      await waitFor(async () => ((await finished()).length === targets.length ? true : undefined), 'all twenty first syncs', 180_000);
      for (const [i, target] of targets.entries()) {
        const state = await compareWithDirectory(database.db, target.connectionId, emulator.directory.findTenant(target.tenantId)!, FLEET[i]!.groups!.map((each) => each.id));
        expect(state, FLEET[i]!.displayName).toMatchObject({ lost: 0, extra: 0 });
        expect(state.users).toBeGreaterThan(0);
      }

      // Both took part: the identities (pid@host, the SDK's default) that started the syncs' activity tasks, from Temporal's own histories.
      const pids = workers.map((each) => String(each.child.pid)).sort();
      const identities = async () => {
        const seen = new Set<string>();
        for (const target of targets) {
          // Each cycle ends in continue-as-new: read every run of the chain (visibility may trail a closed run by a moment).
          for await (const run of client.workflow.list({ query: `WorkflowId = '${directorySyncWorkflowId(target.connectionId)}'` })) {
            const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
            for (const event of history.events ?? []) if (event.activityTaskStartedEventAttributes?.identity) seen.add(event.activityTaskStartedEventAttributes.identity.split('@')[0]!);
          }
        }
        return [...seen].sort();
      };
      let last: string[] = [];
      await waitFor(async () => ((last = await identities()).join() === pids.join() ? true : undefined), 'both workers to have run sync activities', 20_000).catch(() => {
        throw new Error(`activity tasks ran on ${last.join(', ') || 'no worker'}, not on both of ${pids.join(', ')}`);
      });
      await Promise.all(targets.map((target) => client.workflow.getHandle(directorySyncWorkflowId(target.connectionId)).terminate('test over')));
    } finally {
      await connection.close();
    }
    for (const each of workers) each.child.kill('SIGTERM');
    expect(await Promise.all(workers.map((each) => each.exited))).toEqual([0, 0]);
  }, 300_000);
});

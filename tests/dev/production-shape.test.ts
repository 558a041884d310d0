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
import { Worker } from '@temporalio/worker';
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
import { startOtlpReceiver } from '../support/otlp.js';
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

/** The value of a Prometheus sample whose labels include each of `labels` (summed over the rest). */
function sample(text: string, name: string, ...labels: string[]): number | undefined {
  const rows = text.split('\n').filter((line) => (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && labels.every((label) => line.includes(label)));
  return rows.length === 0 ? undefined : rows.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

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
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let workerMetrics: string;
  let webMetrics: string;

  beforeAll(async () => {
    const [port, workerMetricsPort, webMetricsPort] = [await freePort(), await freePort(), await freePort()];
    url = `http://127.0.0.1:${port}`;
    workerMetrics = `http://127.0.0.1:${workerMetricsPort}/metrics`;
    webMetrics = `http://127.0.0.1:${webMetricsPort}/metrics`;
    otlp = await startOtlpReceiver();
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
      DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
      PUBLIC_URL: url,
      PORT: String(port),
      WORKER_METRICS_PORT: String(workerMetricsPort),
      WEB_METRICS_PORT: String(webMetricsPort),
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, // tracing on, to a collector of the test's own
    };
    await run('npm', ['run', 'build'], { cwd: projectRoot, env, maxBuffer: 16 * 1024 * 1024 });
  }, 240_000);
  const workers: Array<ReturnType<typeof start>> = [];
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    web?.child.kill('SIGKILL');
    for (const each of workers) each.child.kill('SIGKILL');
    await emulator?.close();
    await otlp?.close();
    await database?.drop();
  });

  it('builds, migrates, runs worker and web from dist/, walks Connect → pick → preview → save → first sync over HTTP, and drains on SIGTERM', async () => {
    const migrated = await run('npm', ['run', '-s', 'migrate'], { cwd: projectRoot, env });
    expect(migrated.stdout).toContain('0012_directory_api');
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

    // The on-call engineer's view: the worker's metrics (Temporal's and the sync's) and the web's.
    const fromWorker = await waitFor(async () => {
      const text = await (await fetch(workerMetrics)).text();
      return /^hook_sync_cycles\S*\{[^}]*status="ok"[^}]*\} [1-9]/m.test(text) ? text : undefined;
    }, 'the committed cycle in the worker\'s metrics', 30_000);
    expect(sample(fromWorker, 'hook_sync_users_added')).toBe(7);
    expect(sample(fromWorker, 'hook_sync_cycle_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(fromWorker).toMatch(/^hook_sync_cycle_duration_seconds_bucket\{[^}]*le="3600"/m); // the cycle's own buckets
    // Where the commit's time went: each of its steps once for the one committed cycle, with buckets of their own.
    for (const step of ['prepare', 'direct_members', 'users', 'memberships', 'removals', 'group_status', 'finish', 'transaction_commit']) {
      expect(sample(fromWorker, 'hook_sync_commit_step_seconds_count', `step="${step}"`), step).toBe(1);
    }
    expect(fromWorker).toMatch(/^hook_sync_commit_step_seconds_bucket\{[^}]*le="0.01"/m);
    expect(sample(fromWorker, 'hook_graph_responses', 'status="200"')).toBeGreaterThan(0);
    expect(fromWorker).toMatch(/^temporal_activity_execution_latency/m); // Temporal's own, in seconds
    // Twice the pool of 10 activity slots, all free again once the cycle's last activity is done.
    await waitFor(async () => (sample(await (await fetch(workerMetrics)).text(), 'temporal_worker_task_slots_available', 'worker_type="ActivityWorker"') === 20 ? true : undefined), '20 free activity slots', 30_000);
    const fromWeb = await (await fetch(webMetrics)).text();
    expect(sample(fromWeb, 'hook_web_request_duration_seconds_count', 'route="/org/settings/integrations/microsoft-entra/groups/preview"', 'status="303"')).toBe(1);
    expect(fromWeb).not.toMatch(new RegExp(`route="[^"]*${connectionId}`)); // ids in paths never become route labels…
    expect(fromWeb).toMatch(new RegExp(`^hook_connection_last_successful_cycle_timestamp_seconds\\{[^}]*connection_id="${connectionId}"[^}]*\\} 1\\d{9}`, 'm')); // …but the connection's own gauges name it
    expect(sample(fromWeb, 'hook_connection_needs_reconnect', `connection_id="${connectionId}"`)).toBe(0);
    expect(sample(fromWeb, 'hook_connection_removals_held', `connection_id="${connectionId}"`)).toBe(0);
    expect((await fetch(`${url}/metrics`)).status).toBe(404); // never on the public port

    // SIGTERM: both drain and exit 0 (the worker finishes in-flight tasks, the web closes its server and pools).
    worker.child.kill('SIGTERM');
    web.child.kill('SIGTERM');
    expect(await web.exited).toBe(0);
    expect(await worker.exited).toBe(0);
    expect(web.output()).toContain('shutting down');

    // Traces, flushed on shutdown: the web's request and Temporal client spans and the worker's
    // activity spans, one trace from the Save click to the commit of the sync it started.
    const save = otlp.spans.find((span) => span.service === 'hook-directory-sync-web' && span.name === 'POST /org/settings/integrations/microsoft-entra/preview/save');
    expect(save, otlp.spans.map((span) => `${span.service} ${span.name}`).join('\n')).toBeDefined();
    const sameTrace = otlp.spans.filter((span) => span.traceId === save!.traceId).map((span) => `${span.service.replace('hook-directory-sync-', '')} ${span.name}`);
    expect(sameTrace).toEqual(
      expect.arrayContaining(['web StartWorkflowUpdate:saveSelection', 'worker RunActivity:saveSelection', 'worker RunActivity:startSync', 'worker SignalWithStartWorkflow:directorySyncWorkflow', 'worker RunActivity:syncGroups', 'worker RunActivity:commitSyncRun']),
    );

    // Every history of the walk, trace headers and update validators and queries included,
    // replays on the prebuilt bundle without a non-determinism error.
    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const histories = [];
      for await (const execution of client.workflow.list({ query: `TaskQueue = '${env.TEMPORAL_TASK_QUEUE}'` })) {
        const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
        // A running workflow's history is replayed up to its last completed workflow task (a run the
        // stopped worker never got to has none).
        const events = history.events ?? [];
        const last = events.findLastIndex((event) => event.workflowTaskCompletedEventAttributes != null);
        if (last >= 0) histories.push({ workflowId: `${execution.type} ${execution.runId}`, history: { ...history, events: events.slice(0, last + 1) } });
      }
      const replayed = new Set<string>();
      for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: path.join(projectRoot, 'dist', 'workflow-bundle.js') } }, histories)) {
        expect(result.error, result.workflowId).toBeUndefined();
        replayed.add(result.workflowId.split(' ')[0]!);
      }
      expect([...replayed].sort()).toEqual(['directorySyncWorkflow', 'groupSelectionWorkflow', 'onboardingWorkflow']);
    } finally {
      await connection.close();
    }
  }, 300_000);

  // Runs after the walk above, on the database it migrated.
  it('two worker processes on one task queue share twenty connections\' syncs, and every one finishes', async () => {
    // Each its own metrics port, as two pods have; a task queue of their own, whatever the walk above left running.
    const fleetEnv = { ...env, TEMPORAL_TASK_QUEUE: `${env.TEMPORAL_TASK_QUEUE}-fleet` };
    for (let i = 0; i < 2; i++) workers.push(start('dist/worker/main.js', { ...fleetEnv, WORKER_METRICS_PORT: String(await freePort()) }));
    await waitFor(() => Promise.resolve(workers.every((each) => each.output().includes('worker started')) ? true : undefined), 'both workers to start', 60_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${workers.map((each) => each.output().slice(-2000)).join('\n---\n')}`);
    });

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
      const launcher = createSyncLauncher(client, fleetEnv.TEMPORAL_TASK_QUEUE);
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

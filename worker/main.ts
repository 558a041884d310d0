import '../lib/require-node.js';
import { promises as fs } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createEntraClients } from '../activities/graph/clients.js';
import { createDb } from '../db/client.js';
import { entraSettingsFromConfig } from '../lib/entra-settings.js';
import { loadConfigOrExit, syncSettings, workerTuning } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { temporalConnectConfigOrExit } from '../lib/temporal-connection.js';
import { temporalLogger } from '../lib/temporal-logger.js';
import { clientTracing, startTracing } from '../lib/tracing.js';
import { bundlePath } from './build-bundle.js';
import { PROMETHEUS_OPTIONS } from './metrics.js';
import { createWorker } from './worker.js';
import { createEventsListener } from '../lib/events-listener.js';
import { ensureDeliveries } from '../lib/webhook-launcher.js';
import { sealStoredWebhookSecrets, WEBHOOK_SECRETS } from '../db/repositories/webhooks.js';
import { secretBox } from '../lib/secret-box.js';

/** `npm run worker`: the production worker, against an external Postgres and Temporal. */
const config = loadConfigOrExit('DATABASE_URL', 'ENTRA_CLIENT_ID', 'ENTRA_CLIENT_SECRET', 'DATA_ENCRYPTION_KEY');
const webhookSecrets = secretBox(config.DATA_ENCRYPTION_KEY, WEBHOOK_SECRETS, config.DATA_ENCRYPTION_KEY_PREVIOUS);
// Address, namespace, TLS and API key as Temporal's own tooling reads them (Temporal Cloud included).
const temporalConfig = temporalConnectConfigOrExit();
const entra = createEntraClients(entraSettingsFromConfig(config)!);
const logger = createLogger(config.LOG_LEVEL, 'worker');
// Off unless OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set (lib/tracing.ts).
const tracing = startTracing('worker');
const tuning = workerTuning(config);

// SIGTERM (and SIGINT) make the Runtime shut the worker down: polling stops, in-flight
// tasks get shutdownGraceTime to finish, then run() resolves.
Runtime.install({
  logger: temporalLogger(logger),
  telemetryOptions:
    config.WORKER_METRICS_PORT === undefined
      ? undefined
      : { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.WORKER_METRICS_PORT}`, ...PROMETHEUS_OPTIONS } } },
});

const workflowBundle = await fs.access(bundlePath).then(
  () => ({ codePath: bundlePath }),
  () => {
    logger.fatal({ bundlePath }, 'workflow bundle missing: run `npm run build` first');
    process.exit(1);
  },
);
const db = createDb(config.DATABASE_URL, { max: tuning.poolSize });
const events = createEventsListener(config.DATABASE_URL);
const connection = await NativeConnection.connect(temporalConfig.connectionOptions);
// Activities hand saved selections to the sync workflow through an ordinary client.
const clientConnection = await Connection.connect(temporalConfig.connectionOptions);
const temporal = {
  client: new Client({ connection: clientConnection, namespace: temporalConfig.namespace, ...clientTracing(tracing) }),
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  sync: syncSettings(config),
};
try {
  const worker = await createWorker({
    connection,
    namespace: temporalConfig.namespace,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deps: { db, entra, temporal, webhooks: { allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS, listener: events, secrets: webhookSecrets } },
    workflowBundle,
    maxConcurrentActivities: tuning.maxConcurrentActivities,
    tracing,
  });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, ...tuning, tracing: tracing !== undefined }, 'worker started');
  const running = worker.run();
  await sealStoredWebhookSecrets(db, webhookSecrets).then(
    (sealed) => sealed > 0 && logger.info({ sealed }, 'webhook signing secrets sealed under the current DATA_ENCRYPTION_KEY (they were in clear, or under the previous key)'),
    (error: unknown) => logger.warn({ err: error }, 'could not seal the webhook signing secrets under the current key; the next worker start does'),
  );
  await ensureDeliveries(temporal.client, config.TEMPORAL_TASK_QUEUE, db).then(
    (endpoints) => logger.info({ endpoints }, 'webhook deliveries running'),
    (error: unknown) => logger.warn({ err: error }, 'could not check the webhook deliveries; the next worker start does'),
  );
  await running;
  logger.info('worker stopped');
} finally {
  await connection.close();
  await clientConnection.close();
  await events.close();
  await db.destroy();
  await tracing?.shutdown();
}

import '../lib/require-node.js';
import { startTracing, clientTracing } from '../lib/tracing.js';
import { Client, Connection } from '@temporalio/client';
import { createDb } from '../db/client.js';
import { loadConfigOrExit } from '../lib/config.js';
import { publicEntraSettingsFromConfig } from '../lib/entra-settings.js';
import { createLogger } from '../lib/logger.js';
import { temporalConnectConfigOrExit } from '../lib/temporal-connection.js';
import { createApp } from './app.js';
import { createWebMetrics, serveMetrics } from './metrics.js';
import { listen } from './server.js';
import { startSweeper } from './sweep.js';

/** `npm run web`: the production web process, against an external Postgres and Temporal. */
const config = loadConfigOrExit('DATABASE_URL', 'SESSION_SECRET', 'DATA_ENCRYPTION_KEY', 'PUBLIC_URL', 'ENTRA_CLIENT_ID');
// Address, namespace, TLS and API key as Temporal's own tooling reads them (Temporal Cloud included).
const temporalConfig = temporalConnectConfigOrExit();
const entra = publicEntraSettingsFromConfig(config)!;
const logger = createLogger(config.LOG_LEVEL, 'web');
// Before anything makes a span: off unless OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set.
const tracing = startTracing('web');
const db = createDb(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE });
// Lazy: the web process starts (and /readyz says why it is not ready) even while Temporal is down.
const connection = Connection.lazy(temporalConfig.connectionOptions);
const temporal = new Client({ connection, namespace: temporalConfig.namespace, ...clientTracing(tracing) });

const metrics = createWebMetrics(db);
const server = await listen(createApp({ config, db, temporal, logger, entra, metrics }), config.PORT);
const metricsServer = config.WEB_METRICS_PORT === undefined ? undefined : await serveMetrics(metrics, config.WEB_METRICS_PORT);
logger.info({ port: server.port, publicUrl: config.PUBLIC_URL, metricsPort: metricsServer?.port, tracing: tracing !== undefined }, 'web listening');
const stopSweeper = startSweeper(db, logger);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    stopSweeper();
    void server
      .close()
      .then(() => metricsServer?.close())
      .then(() => tracing?.shutdown())
      .then(() => connection.close())
      .then(() => db.destroy())
      .finally(() => process.exit(0));
  });
}

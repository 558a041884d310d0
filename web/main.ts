import '../lib/require-node.js';
import { Client, Connection } from '@temporalio/client';
import { createDb } from '../db/client.js';
import { loadConfigOrExit } from '../lib/config.js';
import { publicEntraSettingsFromConfig } from '../lib/entra-settings.js';
import { createLogger } from '../lib/logger.js';
import { temporalConnectConfigOrExit } from '../lib/temporal-connection.js';
import { createApp } from './app.js';
import { listen } from './server.js';
import { startSweeper } from './sweep.js';

/** `npm run web`: the production web process, against an external Postgres and Temporal. */
const config = loadConfigOrExit('DATABASE_URL', 'SESSION_SECRET', 'PUBLIC_URL', 'ENTRA_CLIENT_ID');
// Address, namespace, TLS and API key as Temporal's own tooling reads them (Temporal Cloud included).
const temporalConfig = temporalConnectConfigOrExit();
const entra = publicEntraSettingsFromConfig(config)!;
const logger = createLogger(config.LOG_LEVEL, 'web');
const db = createDb(config.DATABASE_URL);
// Lazy: the web process starts (and /readyz says why it is not ready) even while Temporal is down.
const connection = Connection.lazy(temporalConfig.connectionOptions);
const temporal = new Client({ connection, namespace: temporalConfig.namespace });

const server = await listen(createApp({ config, db, temporal, logger, entra }), config.PORT);
logger.info({ port: server.port, publicUrl: config.PUBLIC_URL }, 'web listening');
const stopSweeper = startSweeper(db, logger);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    stopSweeper();
    void server
      .close()
      .then(() => connection.close())
      .then(() => db.destroy())
      .finally(() => process.exit(0));
  });
}

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb } from '../../db/client.js';
import { startEmbeddedPostgres } from '../../dev/embedded-postgres.js';
import { loadConfig } from '../../lib/config.js';
import { createLogger } from '../../lib/logger.js';
import { createApp } from '../../web/app.js';
import { listen, type RunningServer } from '../../web/server.js';
import { withoutSecret } from '../../lib/entra-settings.js';
import { entraFor, TEST_SECRET } from '../support/app.js';
import { TEST_DATA_KEY } from '../support/secrets.js';
import { freePort } from '../support/ports.js';
import { connectToTemporal } from '../support/temporal.js';

describe('health endpoints', () => {
  let temporal: Awaited<ReturnType<typeof connectToTemporal>>;
  beforeAll(async () => {
    temporal = await connectToTemporal();
  });
  afterAll(() => temporal.close());

  async function serve(databaseUrl: string, client: Client): Promise<RunningServer & { url: string }> {
    const app = createApp({
      config: loadConfig({ SESSION_SECRET: TEST_SECRET, DATA_ENCRYPTION_KEY: TEST_DATA_KEY }),
      db: createDb(databaseUrl, { connectionTimeoutMillis: 1_000 }),
      temporal: client,
      logger: createLogger('silent', 'test'),
      entra: withoutSecret(entraFor(undefined)),
    });
    const server = await listen(app, 0, '127.0.0.1');
    return { ...server, url: `http://127.0.0.1:${server.port}` };
  }

  it('/readyz is 200 while Postgres runs and 503 once it stops; /healthz stays 200', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hook-readyz-'));
    const postgres = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'data'),
      port: await freePort(),
      database: 'readyz',
      persistent: false,
    });
    const server = await serve(postgres.url, temporal.client);
    try {
      const up = await fetch(`${server.url}/readyz`);
      expect(up.status).toBe(200);
      expect(await up.json()).toEqual({ status: 'ready', postgres: 'ok', temporal: 'ok' });

      await postgres.stop();
      const down = await fetch(`${server.url}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: 'not ready', postgres: expect.stringMatching(/^unavailable/), temporal: 'ok' });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
      await postgres.stop();
    }
  });

  it('/readyz is 503 when Temporal cannot be reached', async () => {
    const nobody = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 });
    const server = await serve(inject('postgresAdminUrl'), new Client({ connection: nobody }));
    try {
      const response = await fetch(`${server.url}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ postgres: 'ok', temporal: expect.stringMatching(/^unavailable/) });
    } finally {
      await server.close();
    }
  });
});

import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createEntraClients } from '../../activities/graph/clients.js';
import { createDb } from '../../db/client.js';
import { emulatorEntraSettings } from '../../emulator/demo.js';
import { trustCertificateAuthority } from '../../lib/trust.js';
import { createWorker } from '../../worker/worker.js';
import { createEventsListener } from '../../lib/events-listener.js';
import { testWebhookSecrets } from './secrets.js';

// The product's worker in a process of its own, so a test can kill it with SIGKILL mid-work, or
// a benchmark can read its memory alone.
const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
Runtime.install({ logger: new DefaultLogger('ERROR') });
trustCertificateAuthority(readFileSync(env('EMULATOR_CA_FILE'), 'utf8'));
const db = createDb(env('DATABASE_URL'));
const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
const client = new Client({ connection: await Connection.connect({ address: env('TEMPORAL_ADDRESS') }) });
const slots = process.env.MAX_CONCURRENT_ACTIVITIES; // the benchmarks give the production default
const worker = await createWorker({
  failOnNondeterminism: true,
  ...(slots === undefined ? {} : { maxConcurrentActivities: Number(slots) }),
  connection,
  namespace: 'default',
  taskQueue: env('TASK_QUEUE'),
  deps: {
    db,
    entra: createEntraClients(emulatorEntraSettings(env('EMULATOR_URL'), undefined)),
    temporal: { client, taskQueue: env('TASK_QUEUE') },
    webhooks: { allowPrivateTargets: true, timeoutMs: 2_000, listener: createEventsListener(env('DATABASE_URL')), secrets: testWebhookSecrets },
  },
});
console.log('worker ready');
await worker.run();

import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { eventsAfter } from '../../db/repositories/events.js';
import { createWebhookEndpoint } from '../../db/repositories/webhooks.js';
import type { RunningEmulator } from '../../emulator/server.js';
import { wakeDelivery } from '../../lib/webhook-launcher.js';
import { webhookWorkflowId } from '../../workflows/webhooks/messages.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestEmulator } from '../support/emulator.js';
import { spawnWorker } from '../support/spawn-worker.js';
import { faultFigure, FULL } from '../support/faults.js';
import { startReceiver } from '../support/receiver.js';
import { connectToTemporal } from '../support/temporal.js';
import { waitFor } from '../support/wait.js';
import { testWebhookSecrets } from '../support/secrets.js';

const USERS = FULL ? 10_000 : 3_000;
const KILLS = FULL ? 10 : 3;

/** The worker that delivers webhooks, killed with SIGKILL mid-delivery and started again: no event is lost. */
describe('webhook deliveries through worker SIGKILLs', () => {
  let database: TestDatabase;
  let temporal: Awaited<ReturnType<typeof connectToTemporal>>;
  let emulator: RunningEmulator;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    [database, temporal, emulator] = await Promise.all([createTestDatabase(), connectToTemporal(), startTestEmulator()]);
  });
  afterAll(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    await emulator.close();
    await temporal.close();
    await database.drop();
  });

  const startWorker = () => spawnWorker(workers, { database, taskQueue: temporal.taskQueue, emulator });

  it('every event reaches the receiver, in order, however often the worker dies mid-delivery; repeats carry the same ids', async () => {
    const db = database.db;
    const orgId = await createOrgCommand(db, 'webhook-kill-org', 'Webhook Kill Org');
    const connectionId = await upsertConnection(db, { orgId, tenantId: randomUUID(), tenantName: 'Killed Ltd', verifiedDomains: [] });
    // A receiver that takes a moment over each delivery, so the kills land in the middle of some.
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 150 }));
    const { id: endpointId } = await createWebhookEndpoint(db, { orgId, url: receiver.url, eventTypes: [], createdBy: null }, testWebhookSecrets);
    // Thousands of events, in transactions of 500, as sync commits write them.
    for (let i = 0; i < USERS; i += 500) {
      await db.insertInto('directory_users').values(Array.from({ length: 500 }, (_, index) => ({ connection_id: connectionId, user_id: randomUUID(), display_name: `User ${i + index}` }))).execute();
    }
    const expected = (await eventsAfter(db, orgId, { limit: 1_000_000 })).map((event) => event.id);
    expect(expected).toHaveLength(USERS);

    let worker = await startWorker();
    await wakeDelivery(temporal.client, temporal.taskQueue, endpointId, { heartbeatTimeoutMs: 3_000 });
    const killedAt: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const before = receiver.acknowledged().length;
      await waitFor(() => Promise.resolve(receiver.acknowledged().length > before ? true : undefined), 'deliveries to go on', 60_000);
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400));
      worker.kill('SIGKILL');
      killedAt.push(receiver.acknowledged().length);
      worker = await startWorker();
    }
    await waitFor(() => Promise.resolve(receiver.acknowledged().length === expected.length ? true : undefined), 'every event to be acknowledged', 120_000);
    expect(receiver.acknowledged()).toEqual(expected);
    expect(killedAt.every((acknowledged) => acknowledged < expected.length)).toBe(true); // each kill landed mid-delivery
    const sent = receiver.received.reduce((total, delivery) => total + delivery.ids.length, 0);
    const endpoint = await db.selectFrom('webhook_endpoints').select(['delivered_count', 'last_status']).where('id', '=', endpointId).executeTakeFirstOrThrow();
    expect(endpoint).toEqual({ delivered_count: USERS, last_status: '200' });
    await temporal.client.workflow.getHandle(webhookWorkflowId(endpointId)).terminate();
    worker.kill('SIGTERM');
    await receiver.close();
    faultFigure('webhook worker SIGKILL', { kills: KILLS, events: USERS, eventsSent: sent, repeated: sent - USERS, lost: 0 });
  }, 300_000);
});

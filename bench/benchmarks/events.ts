import { randomUUID } from 'node:crypto';
import { createOrgCommand } from '../../cli/commands.js';
import { upsertConnection } from '../../db/repositories/connections.js';
import { writeEventsOfOneOrg } from '../../db/repositories/events.js';
import { createWebhookEndpoint } from '../../db/repositories/webhooks.js';
import { startReceiver } from '../../tests/support/receiver.js';
import { wakeDelivery } from '../../lib/webhook-launcher.js';
import type { Benchmark } from '../figures.js';
import { benchWebhookSecrets, startBenchProduct } from '../support/product.js';
import { round } from '../support/synced-connection.js';

const SINGLE_CHANGES = 50;
const BURST_USERS = 20_000;
/** Users another org writes in one long transaction, as a first sync's commit does. */
const LONG_COMMIT_USERS = 100_000;

/**
 * Change events from commit to webhook delivery, through the real worker and its delivery
 * workflow: single changes one after another (the latency an audience cache sees), then one
 * commit of 20,000 users (a first sync's worth: how fast a receiver is caught up). Last, single
 * changes while another org writes 100,000 users in one transaction: without its promise to
 * write that org's events only, as before migration 0017, and with it, as a sync's commit does.
 */
export const eventsBenchmark: Benchmark = {
  name: 'events',
  description: 'change events from commit to webhook delivery (real worker, local receiver)',
  run: async (report) => {
    const product = await startBenchProduct([]);
    const arrived = new Map<string, number>();
    const receiver = await startReceiver();
    const watch = setInterval(() => {
      for (const delivery of receiver.received.splice(0)) for (const id of delivery.ids) if (!arrived.has(id)) arrived.set(id, delivery.at);
    }, 1);
    try {
      const orgId = await createOrgCommand(product.db, `bench-events-${Date.now()}`, 'Bench Events');
      const connectionId = await upsertConnection(product.db, { orgId, tenantId: randomUUID(), tenantName: 'Bench Events', verifiedDomains: [] });
      const { id: endpointId } = await createWebhookEndpoint(product.db, { orgId, url: receiver.url, eventTypes: [], createdBy: null }, benchWebhookSecrets);
      const handle = await wakeDelivery(product.client, product.taskQueue, endpointId);
      const eventOf = async (userId: string) =>
        (await product.db.selectFrom('directory_events').select('id').where('org_id', '=', orgId).where('data', '@>', JSON.stringify({ user: { entraId: userId } }) as never).orderBy('id', 'desc').executeTakeFirstOrThrow()).id;
      const deliveredOf = async (id: string) => {
        for (;;) {
          const at = arrived.get(String(id));
          if (at !== undefined) return at;
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      };

      /** A single change, committed on its own, and when its event reached the receiver (ms). */
      const singleChange = async (label: string) => {
        const userId = randomUUID();
        await product.db.insertInto('directory_users').values({ connection_id: connectionId, user_id: userId, display_name: label }).execute();
        const committed = Date.now(); // the insert is its own transaction: committed when it returns
        const latency = (await deliveredOf(await eventOf(userId))) - committed;
        await new Promise((resolve) => setTimeout(resolve, 50)); // changes apart, as syncs commit them
        return latency;
      };
      const reportLatencies = (label: string, latencies: number[], goal: string | null) => {
        latencies.sort((a, b) => a - b);
        report({ figure: `${label}, p50`, value: latencies[Math.floor(latencies.length / 2)]!, unit: 'ms', goal: null });
        report({ figure: `${label}, p95`, value: latencies[Math.floor(latencies.length * 0.95)]!, unit: 'ms', goal });
        report({ figure: `${label}, max`, value: latencies.at(-1)!, unit: 'ms', goal: null });
      };

      const latencies: number[] = [];
      for (let i = 0; i < SINGLE_CHANGES; i++) latencies.push(await singleChange(`Single ${i}`));
      reportLatencies('commit to delivery, single change', latencies, '<= 2000');

      const lastUser = randomUUID();
      const users = Array.from({ length: BURST_USERS }, (_, index) => ({ connection_id: connectionId, user_id: index === BURST_USERS - 1 ? lastUser : randomUUID(), display_name: `Burst ${index}` }));
      const started = Date.now();
      await product.db.transaction().execute(async (trx) => {
        for (let i = 0; i < users.length; i += 5_000) await trx.insertInto('directory_users').values(users.slice(i, i + 5_000)).execute();
      });
      const committed = Date.now();
      const last = await deliveredOf(await eventOf(lastUser));
      report({ figure: `commit of ${BURST_USERS.toLocaleString('en-US')} users: writing their events (inside the commit)`, value: round((committed - started) / 1000), unit: 's', goal: null });
      report({ figure: `commit of ${BURST_USERS.toLocaleString('en-US')} users: to the last event delivered`, value: round((last - committed) / 1000), unit: 's', goal: null });
      report({ figure: 'delivery throughput', value: Math.round(BURST_USERS / ((last - committed) / 1000)), unit: 'events/s', goal: null });

      // Another org's long transaction: the feed waits for what is still running, unless it
      // promised to write its own org's events only.
      const busyOrg = await createOrgCommand(product.db, `bench-events-busy-${Date.now()}`, 'Bench Busy');
      const busyConnection = await upsertConnection(product.db, { orgId: busyOrg, tenantId: randomUUID(), tenantName: 'Bench Busy', verifiedDomains: [] });
      for (const promised of [false, true]) {
        const label = `commit to delivery, single change while another org writes ${LONG_COMMIT_USERS.toLocaleString('en-US')} users in one transaction, ${promised ? 'promising its own org’s events only (as a sync’s commit does)' : 'without a promise (as before migration 0017)'}`;
        let ended = 0; // when the long transaction ended (0: running)
        const started = Date.now();
        const long = product.db
          .transaction()
          .execute(async (trx) => {
            if (promised) await writeEventsOfOneOrg(trx, busyConnection);
            for (let i = 0; i < LONG_COMMIT_USERS; i += 5_000) {
              await trx.insertInto('directory_users').values(Array.from({ length: 5_000 }, (_, index) => ({ connection_id: busyConnection, user_id: randomUUID(), display_name: `Busy ${i + index}` }))).execute();
            }
          })
          .finally(() => (ended = Date.now()));
        const during: number[] = [];
        await new Promise((resolve) => setTimeout(resolve, 500)); // well inside it
        while (ended === 0) during.push(await singleChange('During'));
        await long;
        report({ figure: `${label}: the long transaction`, value: round((ended - started) / 1000), unit: 's', goal: null });
        reportLatencies(label, during, promised ? '<= 2000' : null);
      }
      await handle.terminate();
    } finally {
      clearInterval(watch);
      await receiver.close();
      await product.stop();
    }
  },
};

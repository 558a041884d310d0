import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { projectRoot } from '../../lib/paths.js';
import { createApiKey } from '../../db/repositories/api-keys.js';
import { exportUsersCsv } from '../../db/repositories/export.js';
import { DEMO_APP_ID } from '../../emulator/demo.js';
import { freePort } from '../../tests/support/ports.js';
import { waitFor } from '../../tests/support/wait.js';
import type { Benchmark } from '../figures.js';
import { benchTenant, round, withBenchTenant } from '../support/synced-connection.js';

const CLIENTS = 50;
/**
 * The load the latency goal is read at: 50 clients, 2 pages a second each, on their own
 * schedules. A closed loop cannot be the goal's load: with 50 clients that never pause, the mean
 * latency is 50 ÷ throughput whatever a page costs, so ≤ 50 ms would need over 1,000 pages/s,
 * more than the clients' process alone can send on two cores (it takes ~1.2 ms of CPU a page).
 */
const OFFERED_PAGES_PER_SECOND = 100;

interface Page { data: Array<{ id: string }>; nextCursor: string | null }

/**
 * The directory API on the synced benchmarks' tenant (`benchTenant`: 100,000 users, or 300,000): 50 clients at once, each
 * walking the user list by cursor, reading groups' members and searching, as audience builders
 * do: its capacity at full speed, then the latency per page, as the client sees it, at a load
 * below that. The web and the clients run in processes of their own.
 */
export const apiBenchmark: Benchmark = {
  name: 'api',
  description: `directory API pages with 50 concurrent clients on the ${benchTenant().label} tenant`,
  run: async (report) => {
    await withBenchTenant(async (product, _tenant, connection) => {
      await connection.cycle();
      await connection.handle.terminate();
      // The steady state the API serves in: a first load's 400,000 new rows vacuumed and analysed,
      // and its WAL checkpointed, as autovacuum and the checkpointer do within minutes on their
      // own. Measured in the middle of that, the figures measure autovacuum.
      await sql`vacuum analyze directory_users, group_memberships, synced_groups, directory_events, group_edges`.execute(product.db);
      await sql`checkpoint`.execute(product.db);
      const { org_id: orgId } = await product.db.selectFrom('entra_connections').select('org_id').where('id', '=', connection.connectionId).executeTakeFirstOrThrow();
      const { key } = await createApiKey(product.db, { orgId, name: 'bench', createdBy: null });
      // The production web process, in a process of its own: not beside the worker that has just
      // synced 100,000 users (its garbage collections would be measured too).
      const port = await freePort();
      const web = spawn(process.execPath, ['--import', 'tsx', 'web/main.ts'], {
        cwd: projectRoot,
        env: { PATH: process.env.PATH, DATABASE_URL: product.databaseUrl, TEMPORAL_ADDRESS: product.temporalAddress, SESSION_SECRET: 'bench-session-secret-0123456789-abcdefgh', DATA_ENCRYPTION_KEY: 'bench-data-encryption-key-0123456789-abcdefgh', PUBLIC_URL: `http://127.0.0.1:${port}`, PORT: String(port), ENTRA_CLIENT_ID: DEMO_APP_ID, LOG_LEVEL: 'warn', NODE_ENV: 'production' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const base = `http://127.0.0.1:${port}/api/v1`;
      const get = async (path: string): Promise<Page> => {
        const response = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${key}` } });
        const body = (await response.json()) as Page;
        if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
        return body;
      };
      try {
        await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok ? true : undefined), 'the web process');
        const groups: string[] = [];
        for (let after: string | null = null, first = true; first || after; first = false) {
          const body: Page = await get(`/groups?limit=500${after ? `&after=${after}` : ''}`);
          groups.push(...body.data.map((group) => group.id));
          after = body.nextCursor;
        }
        // The 50 clients run in a process of their own: the web process measured serves only.
        // First at full speed (a closed loop: the capacity, and the warm-up), then on a schedule.
        const saturated = await runClients({ base, key, groups, clients: CLIENTS, requestsPerClient: 60 });
        const paced = await runClients({ base, key, groups, clients: CLIENTS, requestsPerClient: 40, rate: OFFERED_PAGES_PER_SECOND });
        const all = (run: typeof paced) => [...run.latencies.users, ...run.latencies.members, ...run.latencies.search];
        report({ figure: `p95 per page, 50 clients, ${OFFERED_PAGES_PER_SECOND} pages/s offered`, value: round(percentile(all(paced), 0.95)), unit: 'ms', goal: '<= 50' });
        report({ figure: 'p50 per page, same load', value: round(percentile(all(paced), 0.5)), unit: 'ms', goal: null });
        for (const [kind, values] of Object.entries(paced.latencies)) report({ figure: `p95 per page, ${kind}, same load`, value: round(percentile(values, 0.95)), unit: 'ms', goal: null });
        report({ figure: 'capacity: pages/s with 50 clients that never pause', value: Math.round(all(saturated).length / saturated.seconds), unit: 'pages/s', goal: null });
        report({ figure: 'p95 per page at that capacity (the queue: 50 ÷ throughput)', value: round(percentile(all(saturated), 0.95)), unit: 'ms', goal: null });

        // All users as CSV (what Export all users streams), into a sink that counts: time and memory.
        let bytes = 0;
        const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => ((bytes += chunk.length), done()) });
        const rssBefore = process.memoryUsage().rss;
        let peak = rssBefore;
        const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
        const exportStarted = performance.now();
        const rows = await exportUsersCsv(product.db, connection.connectionId, sink);
        clearInterval(sampler);
        report({ figure: `CSV export of all ${rows.toLocaleString('en-US')} users`, value: round((performance.now() - exportStarted) / 1000), unit: 's', goal: null });
        report({ figure: 'CSV export size', value: round(bytes / 1024 / 1024), unit: 'MiB', goal: null });
        report({ figure: 'CSV export, memory the process grew by', value: round(Math.max(0, peak - rssBefore) / 1024 / 1024), unit: 'MiB', goal: null });
      } finally {
        web.kill('SIGTERM');
      }
    });
  },
};

/** Runs bench/support/api-clients.ts in its own process and reads its latencies. */
function runClients(settings: { base: string; key: string; groups: string[]; clients: number; requestsPerClient: number; rate?: number }) {
  return new Promise<{ seconds: number; latencies: Record<'users' | 'members' | 'search', number[]> }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/support/api-clients.ts', JSON.stringify(settings)], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as never) : reject(new Error(`the clients failed (${code}): ${stderr}`))));
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

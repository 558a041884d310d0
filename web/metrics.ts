import { createServer, type Server } from 'node:http';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/client.js';

/** The web process's metric names (docs/operators.md lists them with example alerts). */
export const WEB_METRICS = {
  requestDuration: 'hook_web_request_duration_seconds',
  lastSuccessfulCycle: 'hook_connection_last_successful_cycle_timestamp_seconds',
  removalsHeld: 'hook_connection_removals_held',
  needsReconnect: 'hook_connection_needs_reconnect',
  groupsFailing: 'hook_connection_groups_failing',
  connections: 'hook_connections',
} as const;

/**
 * The web's metrics: request latency by route, and each connection's state read from
 * PostgreSQL at scrape time (so they are right whichever worker ran the cycle, and after any
 * restart). Labels carry ids only, never a tenant's or a person's name.
 */
export function createWebMetrics(db: Db) {
  const registry = new Registry();
  const requests = new Histogram({
    name: WEB_METRICS.requestDuration,
    help: 'Web request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const labels = ['org_id', 'connection_id'] as const;
  const lastSuccess = new Gauge({ name: WEB_METRICS.lastSuccessfulCycle, help: 'When the connection last finished a cycle that read every synced group (Unix seconds; 0: never)', labelNames: labels, registers: [registry] });
  const held = new Gauge({ name: WEB_METRICS.removalsHeld, help: 'Removals held until an admin confirms them', labelNames: labels, registers: [registry] });
  const reconnect = new Gauge({ name: WEB_METRICS.needsReconnect, help: '1 when the connection needs an admin to reconnect (consent revoked, app removed)', labelNames: labels, registers: [registry] });
  const failing = new Gauge({ name: WEB_METRICS.groupsFailing, help: 'Synced groups whose last read failed', labelNames: labels, registers: [registry] });

  const connections = new Gauge({ name: WEB_METRICS.connections, help: 'Entra connections, by status', labelNames: ['status'], registers: [registry] });

  /** Every connection's state, one query per scrape; disconnected connections drop out. */
  async function readConnections(): Promise<void> {
    const rows = await db
      .selectFrom('entra_connections as c')
      .select((eb) => [
        'c.org_id',
        'c.id',
        'c.status',
        'c.pending_removals',
        eb.selectFrom('sync_runs as r').select((r) => r.fn.max('r.finished_at').as('at')).whereRef('r.connection_id', '=', 'c.id').where('r.status', 'in', ['ok', 'awaiting_confirmation']).as('last_ok'),
        eb.selectFrom('synced_groups as g').select((g) => g.fn.countAll<number>().as('n')).whereRef('g.connection_id', '=', 'c.id').where('g.last_error', 'is not', null).as('failing'),
      ])
      .where('c.status', '!=', 'disconnected')
      .execute();
    for (const gauge of [lastSuccess, held, reconnect, failing, connections]) gauge.reset();
    for (const row of rows) {
      const at = { org_id: row.org_id, connection_id: row.id };
      lastSuccess.set(at, row.last_ok ? new Date(row.last_ok).getTime() / 1000 : 0);
      held.set(at, row.pending_removals);
      reconnect.set(at, row.status === 'needs_reconnect' ? 1 : 0);
      failing.set(at, Number(row.failing ?? 0));
      connections.inc({ status: row.status });
    }
  }

  const tracer = trace.getTracer('hook-directory-sync-web');
  /**
   * Times each request and, when tracing is on, makes its server span (joining a caller's
   * `traceparent`), named by the route pattern once Express has matched it: ids in paths never
   * become labels or span names.
   */
  const observe: RequestHandler = (req, res, next) => {
    const started = process.hrtime.bigint();
    const span = tracer.startSpan(`${req.method}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, propagation.extract(context.active(), req.headers));
    res.once('finish', () => {
      const route = routeOf(req.baseUrl, req.route as { path?: unknown } | undefined, req.path, res.statusCode);
      requests.observe({ method: req.method, route, status: String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(context.active(), span), next);
  };

  return {
    registry,
    observe,
    /** The Prometheus text: the connections read afresh, then every metric. */
    scrape: async () => (await readConnections(), registry.metrics()),
  };
}

function routeOf(baseUrl: string, route: { path?: unknown } | undefined, path: string, status: number): string {
  if (route && typeof route.path === 'string') return `${baseUrl}${route.path}`;
  if (path.startsWith('/assets/')) return '/assets/*';
  return status === 404 ? 'unmatched' : 'other';
}

export type WebMetrics = ReturnType<typeof createWebMetrics>;

/**
 * The metrics endpoint on a port of its own (WEB_METRICS_PORT), never on the public one: it
 * names every customer's connection, which only the operator's Prometheus may read.
 */
export function serveMetrics(metrics: Pick<WebMetrics, 'registry' | 'scrape'>, port: number, host = '0.0.0.0'): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.scrape().then(
      (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({ port: typeof address === 'object' && address ? address.port : port, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { ClientOptions } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';

export interface Tracing {
  resource: Resource;
  spanProcessor: SpanProcessor;
  /** Flushes the spans not yet sent; call before the process exits. */
  shutdown: () => Promise<void>;
}

/**
 * OpenTelemetry tracing, off unless an OTLP endpoint is configured with the standard variables
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_EXPORTER_OTLP_HEADERS
 * for a collector's credentials; OTEL_SDK_DISABLED=true turns it off again). Spans go over
 * OTLP/HTTP (JSON) in batches; the service is `hook-directory-sync-<component>` unless
 * OTEL_SERVICE_NAME names it. Registers the process's global tracer provider when on.
 */
export function startTracing(component: 'web' | 'worker' | 'dev', env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED === 'true') return undefined;
  const resource = Resource.default().merge(new Resource({ 'service.name': env.OTEL_SERVICE_NAME || `hook-directory-sync-${component}` }));
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1_000 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register(); // the global provider, W3C trace-context propagation, async-local context
  return { resource, spanProcessor, shutdown: () => provider.shutdown() };
}

/**
 * A worker's share of tracing: activity spans, each a child of the start, signal or update that
 * led to it (workflows/trace-context.ts carries that context through the workflow; it is in
 * every bundle, since a prebuilt one cannot gain it at start, and passes nothing on when no
 * caller sent a trace). Workflows themselves make no spans: the SDK's workflow interceptors
 * break replay of workflows with update validators or queries (see trace-context.ts).
 */
export function workerTracing(tracing: Tracing | undefined): NonNullable<WorkerOptions['interceptors']>['activity'] {
  return tracing ? [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })] : [];
}

/** A client's share: starts, signals and updates carry the caller's trace to the workflow. */
export function clientTracing(tracing: Tracing | undefined): Pick<ClientOptions, 'interceptors'> {
  return tracing ? { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } } : {};
}

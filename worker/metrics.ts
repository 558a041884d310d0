import type { PrometheusMetricsExporter } from '@temporalio/worker';
import { COMMIT_STEP_BUCKETS, CYCLE_DURATION_BUCKETS, WORKER_METRICS } from '../activities/metrics.js';

/**
 * How the worker's Prometheus endpoint reports: durations in seconds (Temporal's own latencies
 * included), and buckets for the cycle and commit-step histograms that span a delta round to a
 * first read of a large tenant.
 */
export const PROMETHEUS_OPTIONS = {
  useSecondsForDurations: true,
  histogramBucketOverrides: { [WORKER_METRICS.cycleDuration]: CYCLE_DURATION_BUCKETS, [WORKER_METRICS.commitSteps]: COMMIT_STEP_BUCKETS },
} satisfies Omit<PrometheusMetricsExporter['prometheus'], 'bindAddress'>;

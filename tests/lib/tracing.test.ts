import { describe, expect, it } from 'vitest';
import { clientTracing, startTracing, workerTracing } from '../../lib/tracing.js';

describe('tracing', () => {
  it('is off unless an OTLP endpoint is configured, and off again with OTEL_SDK_DISABLED', () => {
    for (const env of [{}, { OTEL_EXPORTER_OTLP_ENDPOINT: '' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }]) {
      const tracing = startTracing('web', env);
      expect(tracing, JSON.stringify(env)).toBeUndefined();
      // Off, the worker adds no activity interceptors and the client none: nothing is traced or sent.
      expect(workerTracing(tracing)).toEqual([]);
      expect(clientTracing(tracing)).toEqual({});
    }
  });
});

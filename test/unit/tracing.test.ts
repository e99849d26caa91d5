import { ROOT_CONTEXT, context, createContextKey, propagation, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { startTracing } from '../../src/observability/tracing';

/** Without OTEL_EXPORTER_OTLP_ENDPOINT, tracing is off and leaves OpenTelemetry's globals alone. */
describe('startTracing', () => {
  it('registers nothing when OTEL_EXPORTER_OTLP_ENDPOINT is unset or empty', () => {
    for (const env of [{}, { OTEL_EXPORTER_OTLP_ENDPOINT: '  ', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }]) {
      const tracing = startTracing(loadConfig(env).tracing);
      expect(tracing.enabled).toBe(false);
      expect(tracing.tracer).toBeUndefined();
      expect(tracing.clientInterceptors).toBeUndefined();
      expect(tracing.workflowInterceptorModules).toEqual([]);
      // No interceptors, no workflow interceptor module and no sink for the worker.
      expect(tracing.workerOptions('workflowsPath')).toEqual({});
      expect(tracing.workerOptions('prebuilt')).toEqual({});
    }
    // The global API is still OpenTelemetry's no-op: no provider, no context manager, no propagator.
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
    const key = createContextKey('probe');
    expect(context.with(ROOT_CONTEXT.setValue(key, 1), () => context.active().getValue(key))).toBeUndefined();
    expect(propagation.fields()).toEqual([]);
  });

  it('refuses an endpoint that is not an http(s) URL, and gRPC, naming the variable', () => {
    const start = (env: Record<string, string>) => startTracing(loadConfig(env).tracing);
    expect(() => start({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(ConfigError);
    expect(() => start({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => start({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json, not "grpc"/,
    );
    // A refused configuration registered nothing either.
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
  });
});

import { createRequire } from 'node:module';
import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Resource, envDetectorSync } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { ClientInterceptors } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { Config } from '../config';
import type { Logger } from './logger';
import { VERSION } from '../lib/version';

/**
 * The workflow half of Temporal's OpenTelemetry interceptors: runs inside the workflow sandbox, so it is
 * bundled with the workflows, and hands its spans out through the `exporter` sink.
 */
export const WORKFLOW_INTERCEPTORS = createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/**
 * Tracing is OpenTelemetry's business: OTEL_EXPORTER_OTLP_ENDPOINT turns it on, and the exporter and
 * the SDK read the other standard OTEL_* variables (headers, timeout, sampler, OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES) themselves. Everything here is `undefined` or empty when it is off, so the
 * API, the Temporal client and the worker are then exactly what they are without this file.
 */
export type Tracing = {
  enabled: boolean;
  /** hookflow's own spans: one per API request (src/api/request-span.ts), one per webhook POST. */
  tracer: Tracer | undefined;
  /** For the API's `new Client({ interceptors })`: StartWorkflow spans, whose context travels in the workflow's headers. */
  clientInterceptors: ClientInterceptors | undefined;
  /** What a pre-built workflow bundle must include for workflow spans: `bundleWorkflowCode({ workflowInterceptorModules })`. */
  workflowInterceptorModules: string[];
  /**
   * For Worker.create: activity interceptors (RunActivity spans), the sink that exports the workflows' spans
   * and, when the worker bundles the workflows itself, the workflow interceptor module.
   */
  workerOptions(bundle: 'prebuilt' | 'workflowsPath'): Pick<WorkerOptions, 'interceptors' | 'sinks'>;
};

const OFF: Tracing = {
  enabled: false,
  tracer: undefined,
  clientInterceptors: undefined,
  workflowInterceptorModules: [],
  workerOptions: () => ({}),
};

let active: { tracing: Tracing; provider: NodeTracerProvider } | undefined;

/**
 * Sets up tracing once per process (the API and the worker of `hookflow start` share it), or returns the
 * no-op `OFF` without touching OpenTelemetry's globals when OTEL_EXPORTER_OTLP_ENDPOINT is unset.
 * src/config.ts has checked the endpoint and the protocol.
 */
export function startTracing(settings: Config['tracing'], log?: Logger): Tracing {
  if (active) return active.tracing;
  const { endpoint, protocol } = settings;
  if (!endpoint) return OFF;

  // Workflow spans are exported through a sink with this resource, the others by the provider: the same for both.
  const resource = new Resource({
    ...Resource.default().attributes,
    'service.name': 'hookflow',
    'service.version': VERSION,
    ...envDetectorSync.detect().attributes,
  });
  // The exporters take the endpoint (plus /v1/traces), headers and timeout from OTEL_EXPORTER_OTLP_* themselves.
  const exporter = protocol === 'http/json' ? new OTLPJsonExporter() : new OTLPProtobufExporter();
  const processor = new BatchSpanProcessor(exporter);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  // Global: the interceptors find the active span through OpenTelemetry's context manager (AsyncLocalStorage),
  // and W3C traceparent is the propagator, for headers into Temporal and from callers of the API.
  provider.register();
  if (log) setGlobalErrorHandler(throttledWarn(log));

  const tracer = provider.getTracer('hookflow', VERSION);
  // makeWorkflowExporter copies every field of the WorkflowInfo it is called with onto each workflow span:
  // about 40 attributes, many nested (search attributes twice, memo, last failure, SDK internals). It is
  // handed only the fields that identify the run; search attributes stay in Temporal, where they are queried.
  const sdkExporter = makeWorkflowExporter(processor, resource);
  const workflowExporter: typeof sdkExporter = {
    export: { ...sdkExporter.export, fn: (info, spans) => sdkExporter.export.fn(runIdentity(info), spans) },
  };
  const tracing: Tracing = {
    enabled: true,
    tracer,
    clientInterceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer })] },
    workflowInterceptorModules: [WORKFLOW_INTERCEPTORS],
    workerOptions: (bundle) => ({
      interceptors: {
        activity: [
          (ctx) => ({
            inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
            outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
          }),
        ],
        // A pre-built bundle carries its interceptors already; the SDK ignores (and warns about) these then.
        ...(bundle === 'workflowsPath' ? { workflowModules: [WORKFLOW_INTERCEPTORS] } : {}),
      },
      sinks: { exporter: workflowExporter },
    }),
  };
  active = { tracing, provider };
  log?.info({ endpoint: new URL(endpoint).origin, protocol }, 'tracing to an OpenTelemetry collector');
  return tracing;
}

/** Exports every span ended so far (the API's, the activities' and the workflows'); nothing when tracing is off. */
export async function flushTracing(): Promise<void> {
  await active?.provider.forceFlush();
}

/** Flushes, stops the exporter and gives OpenTelemetry's globals back, so a later startTracing starts afresh. */
export async function shutdownTracing(): Promise<void> {
  if (!active) return;
  const { provider } = active;
  active = undefined;
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
}

function runIdentity({ workflowId, runId, workflowType, taskQueue, namespace, attempt }: WorkflowInfo): WorkflowInfo {
  return { workflowId, runId, workflowType, taskQueue, namespace, attempt } as WorkflowInfo;
}

/** An unreachable collector fails every batch; one warning a minute says so without drowning the logs. */
function throttledWarn(log: Logger): (err: unknown) => void {
  let last = 0;
  return (err) => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    log.warn({ err }, 'OpenTelemetry: exporting spans failed (further errors muted for a minute)');
  };
}

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus figures for both roles. Labels are bounded sets (outcomes, failure types, refusal reasons):
 * never a tenant id, URL or anything else a tenant chooses.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hookflow_' });
  return {
    registry,
    eventsAccepted: new Counter({ name: 'hookflow_events_accepted_total', help: 'Events accepted with a 202 (new messages).', registers: [registry] }),
    eventsRefused: new Counter({ name: 'hookflow_events_refused_total', help: 'POST /events refused, by reason.', labelNames: ['reason'], registers: [registry] }),
    attempts: new Counter({
      name: 'hookflow_delivery_attempts_total',
      help: 'Delivery attempts, by status and failure type.',
      labelNames: ['status', 'failure_type'],
      registers: [registry],
    }),
    attemptDuration: new Histogram({
      name: 'hookflow_delivery_attempt_duration_seconds',
      help: 'Duration of one delivery attempt (the POST).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: 'hookflow_delivery_latency_seconds',
      help: 'From POST /events accepting a message to a successful delivery attempt ending, per endpoint.',
      // Most deliveries succeed first time (well under a second); retried ones land on the backoff's steps, up to RETRY_EXPIRY.
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3_600, 4 * 3_600, 12 * 3_600, 86_400],
      registers: [registry],
    }),
    endpointsDisabled: new Counter({
      name: 'hookflow_endpoints_disabled_total',
      help: 'Endpoints disabled by a delivery attempt: reason "gone" (410 Gone) or "failing" (ENDPOINT_DISABLE_AFTER).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    httpRequests: new Counter({ name: 'hookflow_http_requests_total', help: 'API requests, by method and status.', labelNames: ['method', 'status'], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

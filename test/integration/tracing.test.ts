import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_BUNDLES } from '../../src/temporal/workflow-bundle';
import { loadConfig } from '../../src/config';
import { flushTracing, shutdownTracing, startTracing } from '../../src/observability/tracing';
import { Receiver, waitFor } from '../support/receiver';
import { API_KEY, buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';
import { deliveryWorkflowId } from '../../workflows/ids';

/**
 * Tracing end to end: OTEL_EXPORTER_OTLP_ENDPOINT points at a fake OTLP/HTTP collector (JSON bodies), and one
 * event's journey, API request → StartWorkflow → message and delivery workflows → deliver activity → the
 * webhook POST, arrives there as one trace. The workflow bundle is built here with Temporal's workflow
 * interceptors, as a deployment with a pre-built bundle has to.
 */
type Attribute = { key: string; value: { stringValue?: string; intValue?: number | string; boolValue?: boolean } };
type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: Attribute[] };
type OtlpBody = { resourceSpans: { resource: { attributes: Attribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

class FakeCollector {
  readonly bodies: { contentType: string | undefined; text: string }[] = [];
  private server!: Server;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/v1/traces') {
          this.bodies.push({ contentType: req.headers['content-type'], text: Buffer.concat(chunks).toString('utf8') });
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  spans(): (OtlpSpan & { resource: Attribute[] })[] {
    return this.bodies.flatMap((b) =>
      (JSON.parse(b.text) as OtlpBody).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, resource: rs.resource.attributes })))),
    );
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function attr(attributes: Attribute[], key: string): string | number | boolean | undefined {
  const value = attributes.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue;
}

const OTEL_VARIABLES = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL'] as const;
const savedEnv = Object.fromEntries(OTEL_VARIABLES.map((name) => [name, process.env[name]]));
const collector = new FakeCollector();
let stack: TestStack;
const receivers: Receiver[] = [];

beforeAll(async () => {
  await collector.start();
  // The OTLP exporter reads these from process.env itself, as it does in production.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url();
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
  // The same once-per-process tracing that startService picks up below.
  const tracing = startTracing(loadConfig().tracing);
  expect(tracing.enabled).toBe(true);
  // The prebuilt bundle a production worker loads when tracing is on: it carries the workflow interceptors.
  stack = await startTestStack({}, { workflowBundle: { codePath: WORKFLOW_BUNDLES.tracing } });
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await stack?.stop();
  await shutdownTracing();
  for (const name of OTEL_VARIABLES) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
  await collector.close();
});

describe('tracing with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  it('exports one trace from POST /events through both workflows and the deliver activity to the webhook POST', async () => {
    const receiver = await Receiver.start();
    receivers.push(receiver);
    const tenantId = uniqueTenant();
    // Things that must never reach a span: a token in the endpoint's query, the payload, the signing secret.
    const created = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url('/hook?token=query-token-7f3a') }));
    expect(created.status).toBe(201);
    const endpointId: string = created.body.id;
    const secret: string = (await stack.request('GET', `/endpoints/${endpointId}/secret`)).body.secret;
    const sent = await stack.request('POST', '/events', buildEvent({ tenantId, payload: { marker: 'payload-marker-91c2' } }));
    expect(sent.status).toBe(202);
    const messageId: string = sent.body.id;
    await waitFor(() => receiver.received.length === 1, 'the webhook POST');

    // Workflow spans leave the sandbox through a sink when their workflow task completes: flush until they are in.
    const wanted = [
      'POST /events',
      'StartWorkflow:messageWorkflow',
      'RunWorkflow:messageWorkflow',
      'StartChildWorkflow:deliveryWorkflow',
      'RunWorkflow:deliveryWorkflow',
      // The first attempt runs inline, as a local activity of the delivery workflow.
      'StartActivity:firstAttempt',
      'RunActivity:firstAttempt',
      'webhook.post',
    ];
    const spans = await waitFor(async () => {
      await flushTracing();
      const all = collector.spans();
      return wanted.every((name) => all.some((s) => s.name === name)) ? all : undefined;
    }, `spans ${wanted.join(', ')} at the collector`);
    const one = (name: string) => {
      const matching = spans.filter((s) => s.name === name);
      expect(matching, name).toHaveLength(1);
      return matching[0]!;
    };

    expect(collector.bodies.every((b) => b.contentType === 'application/json')).toBe(true);
    const api = one('POST /events');
    expect(api.kind).toBe(SPAN_KIND_SERVER);
    expect(attr(api.attributes, 'http.route')).toBe('/events');
    expect(attr(api.attributes, 'http.response.status_code')).toBe(202);
    expect(attr(api.attributes, 'hookflow.request_id')).toBe(sent.headers.get('x-request-id'));

    const start = one('StartWorkflow:messageWorkflow');
    expect(start.parentSpanId).toBe(api.spanId);
    const runDelivery = one('RunWorkflow:deliveryWorkflow');
    expect(attr(runDelivery.attributes, 'workflowId')).toBe(deliveryWorkflowId(messageId, endpointId));
    // Workflow spans name their run, not the whole WorkflowInfo.
    expect(runDelivery.attributes.map((a) => a.key)).not.toContain('searchAttributes');
    const runActivity = one('RunActivity:firstAttempt');
    const post = one('webhook.post');
    expect(post.kind).toBe(SPAN_KIND_CLIENT);
    expect(post.parentSpanId).toBe(runActivity.spanId);
    expect(attr(post.attributes, 'http.response.status_code')).toBe(200);
    expect(attr(post.attributes, 'hookflow.endpoint_id')).toBe(endpointId);
    expect(attr(post.attributes, 'hookflow.message_id')).toBe(messageId);
    expect(attr(post.attributes, 'server.address')).toBe('127.0.0.1');

    // One trace, from the API request to the POST.
    const journey = wanted.map(one);
    expect(new Set(journey.map((s) => s.traceId))).toEqual(new Set([api.traceId]));
    for (const s of journey) expect(attr(s.resource, 'service.name'), s.name).toBe('hookflow');

    const exported = collector.bodies.map((b) => b.text).join('\n');
    for (const hidden of ['query-token-7f3a', 'payload-marker-91c2', secret, API_KEY]) expect(exported).not.toContain(hidden);
  });

  it("continues a caller's W3C traceparent", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const response = await fetch(`${stack.apiUrl}/events/no-such-event`, {
      headers: { authorization: `Bearer ${API_KEY}`, traceparent: `00-${traceId}-${parentId}-01` },
    });
    expect(response.status).toBe(404);
    const span = await waitFor(async () => {
      await flushTracing();
      return collector.spans().find((s) => s.name === 'GET /events/:id' && s.traceId === traceId);
    }, 'the GET /events/:id span');
    expect(span.parentSpanId).toBe(parentId);
    expect(attr(span.attributes, 'http.response.status_code')).toBe(404);
  });
});

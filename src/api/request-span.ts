import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Tracer } from '@opentelemetry/api';
import type { Request, RequestHandler } from 'express';

/**
 * One SERVER span per API request, named `METHOD /route` (OpenTelemetry HTTP semantic conventions), and
 * the active context for everything the request does, so the Temporal client's StartWorkflow span is its
 * child. A caller's W3C `traceparent` is continued. Only the method, the route template, the status and
 * the request id are recorded: never the URL's ids or query, headers or bodies.
 *
 * Manual rather than @opentelemetry/instrumentation-http, which patches `node:http` and needs a loader
 * hook under ESM.
 */
export function requestSpans(tracer: Tracer): RequestHandler {
  return (req, res, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, parent);
    const active = trace.setSpan(parent, span);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const route = routeOf(req);
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      const requestId = res.getHeader('x-request-id');
      if (typeof requestId === 'string') span.setAttribute('hookflow.request_id', requestId);
      if (res.headersSent) span.setAttribute('http.response.status_code', res.statusCode);
      // A server span is an error on a 5xx, or when the client went away before the answer; a 4xx is the caller's.
      if (res.statusCode >= 500 || !res.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(active, next);
  };
}

/** The matched route's template (`/events/:id`); undefined for a request no route took (401, 404). */
function routeOf(req: Request): string | undefined {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : undefined;
}

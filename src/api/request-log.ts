import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../observability/logger';

/** An incoming id is kept only when it is a plain token: no spaces, quotes or control characters. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:+/=@~-]{1,128}$/;

/** Probes and scrapes arrive every few seconds; they log at debug so they do not drown the rest. */
const QUIET_PATHS = /^\/(healthz|readyz|metrics)$|^\/docs\/assets\//;

/**
 * A URL as it may be logged: the path segment after /portal/sessions/ is a portal token (DELETE revokes
 * by token), and anything shaped like one elsewhere (a token pasted into a query) is cut too.
 */
export function loggableUrl(url: string): string {
  return url
    .replace(/^(\/portal\/sessions\/)[^/?#]+/i, '$1[redacted]')
    .replace(/hfp_[^/?#&\s]*/gi, 'hfp_[redacted]');
}

export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * One line per request (method, URL, status, time) and `req.log`, a child logger bound to the request
 * id, which the response echoes as `x-request-id`. Headers and bodies are never logged: the
 * Authorization header stays out by construction, not only by redaction.
 */
export function requestLogger(log: Logger) {
  return pinoHttp({
    logger: log,
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id = requestId(req);
      res.setHeader('x-request-id', id);
      return id;
    },
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: loggableUrl(req.url) }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    // A 5xx's cause is logged by the error handler, with the request id; this line only marks the request.
    customErrorObject: (_req, _res, _err, fields: Record<string, unknown>) => ({ res: fields.res, responseTime: fields.responseTime }),
    customLogLevel: (req, res) => {
      if (res.statusCode === 500) return 'error';
      if (res.statusCode > 500) return 'warn';
      // originalUrl: a mounted router (the docs assets) has cut its prefix from req.url by now.
      const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
      return QUIET_PATHS.test(url.split('?')[0] ?? '') ? 'debug' : 'info';
    },
  });
}

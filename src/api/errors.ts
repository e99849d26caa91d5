import type { ErrorRequestHandler } from 'express';
import { ServiceError } from '@temporalio/client';
import type { ZodError } from 'zod';
import type { Logger } from '../observability/logger';
import { loggableUrl } from './request-log';

/**
 * The contract's error shape, `{"error": {code, message, details?}}`, made in one place. Anything that
 * is not an ApiError, a body-parser error or an outage is a bug: logged with its stack (on the
 * request's logger, so with its request id), answered 500.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `No ${what} with that id.`);
export const conflict = (message: string) => new ApiError(409, 'conflict', message);
export const validationFailed = (message: string, details: { path: string; message: string }[]) =>
  new ApiError(422, 'validation_failed', message, details);

/** 429 rate_limited, saying when to try again (Retry-After, in whole seconds, at least 1). */
export function rateLimited(sentence: string, waitMs: number): ApiError {
  const retryAfter = String(Math.max(1, Math.ceil(waitMs / 1000)));
  return new ApiError(429, 'rate_limited', `${sentence} Retry after ${retryAfter} s.`, undefined, { 'retry-after': retryAfter });
}

export function fromZod(error: ZodError, where: 'body' | 'query' | 'params'): ApiError {
  const details = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  return validationFailed(`The request ${where} has ${details.length} problem${details.length === 1 ? '' : 's'}.`, details);
}

/** Postgres error classes 08 (connection), 57P (shutdown) and 53 (resources) mean "not now", not "bad request". */
const PG_UNAVAILABLE = /^(08|57P|53)/;
const NET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

export function isUnavailable(err: unknown): boolean {
  if (err instanceof ServiceError) return true;
  const e = err as { code?: unknown; name?: string; message?: string; cause?: unknown } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && (PG_UNAVAILABLE.test(e.code) || NET_UNAVAILABLE.has(e.code))) return true;
  // node-postgres reports pool and connection loss without a code; these are its own fixed messages.
  if (e.message === 'timeout exceeded when trying to connect' || e.message === 'Connection terminated unexpectedly') return true;
  if (e.message?.startsWith('Connection terminated')) return true;
  return e.cause !== undefined && e.cause !== err && isUnavailable(e.cause);
}

type BodyParserError = { type?: string; status?: number };

export function errorHandler(log: Logger, maxPayloadBytes: number): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const reqLog = req.log ?? log;
    const parserError = err as BodyParserError;
    let apiError: ApiError;
    if (err instanceof ApiError) apiError = err;
    else if (parserError.type === 'entity.parse.failed') apiError = new ApiError(400, 'invalid_json', 'The body is not valid JSON.');
    else if (parserError.type === 'entity.too.large') {
      apiError = new ApiError(413, 'payload_too_large', `The body is larger than allowed (payload at most ${maxPayloadBytes} bytes).`);
    } else if (parserError.type === 'encoding.unsupported' || parserError.type === 'charset.unsupported') {
      apiError = new ApiError(415, 'unsupported_media_type', 'The body must be UTF-8 JSON.');
    } else if (parserError.type === 'request.aborted' || parserError.type === 'request.size.invalid') {
      apiError = new ApiError(400, 'invalid_json', 'The body ended before its declared length.');
    } else if (err instanceof URIError) {
      // The router could not percent-decode a path segment: such a path names nothing.
      apiError = new ApiError(404, 'not_found', 'No such resource: the path is not valid percent-encoded UTF-8.');
    } else if (parserError.status === 400) {
      // body-parser's untyped 400: a gzip, deflate or br body whose bytes do not decompress.
      apiError = new ApiError(400, 'invalid_json', 'The body could not be decoded; check its Content-Encoding.');
    } else if (isUnavailable(err)) {
      reqLog.warn({ err: { message: (err as Error).message, code: (err as { code?: string }).code }, path: loggableUrl(req.path) }, 'dependency unavailable');
      apiError = new ApiError(503, 'unavailable', 'Postgres or Temporal is unreachable; nothing was accepted. Retry later.', undefined, { 'retry-after': '5' });
    } else {
      reqLog.error({ err, method: req.method, path: loggableUrl(req.path) }, 'unhandled error');
      res.status(500).json({ error: { code: 'internal', message: 'Something went wrong on our side.' } });
      return;
    }
    if (apiError.headers) res.set(apiError.headers);
    const body: { code: string; message: string; details?: unknown } = { code: apiError.code, message: apiError.message };
    if (apiError.details !== undefined) body.details = apiError.details;
    res.status(apiError.status).json({ error: body });
  };
}

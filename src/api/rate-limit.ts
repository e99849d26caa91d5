import type { RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { principalOf } from './auth';
import { rateLimited } from './errors';

/**
 * INGEST_RATE_LIMIT requests per second per API key or portal session, per API process (with N replicas
 * behind a load balancer a key gets up to N times as much). Over it: 429 rate_limited with Retry-After.
 */
export function rateLimitPerKey(perSecond: number): RequestHandler {
  if (perSecond <= 0) return (_req, _res, next) => next();
  const limiter = new RateLimiterMemory({ points: perSecond, duration: 1 });
  return (_req, res, next) => {
    // Counted by which key (its position) or which session, never by the key or token itself.
    const principal = principalOf(res);
    const bucket = principal.kind === 'operator' ? `key:${principal.keyIndex}` : `session:${principal.sessionId}`;
    limiter.consume(bucket).then(
      () => next(),
      (rejection: unknown) => {
        const waitMs = rejection instanceof RateLimiterRes ? rejection.msBeforeNext : 1000;
        next(rateLimited(`More than ${perSecond} requests per second with this key.`, waitMs));
      },
    );
  };
}

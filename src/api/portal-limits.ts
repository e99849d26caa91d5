import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { PortalLimits } from '../config';
import type { Db } from '../db/pool';
import { rateLimited } from './errors';

/**
 * What one portal session may write, so a customer's link cannot be turned against a URL of its choosing
 * (each test send or recovery is a workflow and signed POSTs): a route declares its kind of write
 * (TenantAccess.limit); every other non-GET route a session calls counts as `write`.
 */
export type PortalWrite = 'test-send' | 'recovery' | 'write';

const KINDS: Record<PortalWrite, { setting: Exclude<keyof PortalLimits, 'endpointsPerTenant'>; variable: string; what: string }> = {
  'test-send': { setting: 'testSendsPerMinute', variable: 'PORTAL_TEST_SENDS_PER_MINUTE', what: 'test sends' },
  recovery: { setting: 'recoveriesPerMinute', variable: 'PORTAL_RECOVERIES_PER_MINUTE', what: 'recoveries' },
  write: { setting: 'writesPerMinute', variable: 'PORTAL_WRITES_PER_MINUTE', what: 'changes' },
};

export type PortalWriteLimits = {
  /** Counts one write of this kind for the session, or throws 429 rate_limited with Retry-After. */
  consume(sessionId: string, kind: PortalWrite): Promise<void>;
};

/**
 * A fixed window of a minute per session and kind, counted in Postgres (rate-limiter-flexible's store,
 * table portal_write_limits of migration 0008): hookflow runs several API processes behind a load
 * balancer, and a count kept in each process would let a session through once per process. One upsert
 * per portal write, which is rare next to ingest; operator keys never reach it.
 */
export function portalWriteLimits(db: Db, limits: PortalLimits): PortalWriteLimits {
  // Made at first use: the offline OpenAPI document builds the routes without a database.
  const limiters = new Map<PortalWrite, RateLimiterPostgres>();
  const limiterOf = (kind: PortalWrite) => {
    let limiter = limiters.get(kind);
    if (!limiter) {
      limiter = new RateLimiterPostgres({
        storeClient: db,
        storeType: 'pool',
        tableName: 'portal_write_limits',
        tableCreated: true,
        keyPrefix: `portal-${kind}`,
        points: limits[KINDS[kind].setting],
        duration: 60,
      });
      limiters.set(kind, limiter);
    }
    return limiter;
  };

  return {
    async consume(sessionId, kind) {
      const { setting, variable, what } = KINDS[kind];
      const perMinute = limits[setting];
      if (perMinute === 0) return;
      try {
        await limiterOf(kind).consume(sessionId);
      } catch (rejection) {
        // Anything but a refusal is the store failing (Postgres away): the error handler answers 503.
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        throw rateLimited(`A portal session may make ${perMinute} ${what} a minute (${variable}).`, rejection.msBeforeNext);
      }
    },
  };
}

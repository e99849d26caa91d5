import { z } from './zod';
import { attemptCounts, latestAttempt, type AttemptBucket } from '../db/attempts';
import { getEndpoint, type EndpointRow } from '../db/endpoints';
import type { ApiDeps } from './deps';
import { IdParams, Timestamp } from './common';
import { notFound } from './errors';
import type { Routes } from './route';

/** The chart's two periods: 24 hourly buckets, or 28 buckets of 6 hours. */
const PERIODS = {
  '24h': { bucketSeconds: 3_600, buckets: 24 },
  '7d': { bucketSeconds: 21_600, buckets: 28 },
} as const;
type Period = keyof typeof PERIODS;

const Bucket = z.object({ start: Timestamp, succeeded: z.number().int(), failed: z.number().int() });

const EndpointState = z
  .object({
    status: z.enum(['healthy', 'failing', 'disabled', 'idle']).openapi({
      description: 'disabled: by an operator or after ENDPOINT_DISABLE_AFTER of failures; failing: its latest attempts failed; idle: no attempt in the period.',
    }),
    since: Timestamp.nullable().openapi({ description: 'When it started failing; null otherwise.' }),
    reason: z.string().nullable().openapi({ description: 'Why it is disabled, or the latest failure.' }),
  })
  .openapi('EndpointState');

const EndpointStats = z
  .object({
    period: z.enum(['24h', '7d']),
    bucketSeconds: z.number().int(),
    buckets: z.array(Bucket).openapi({ description: 'Oldest first, aligned to UTC, the last one still filling; empty ones included.' }),
    totals: z.object({ succeeded: z.number().int(), failed: z.number().int() }),
    state: EndpointState,
  })
  .openapi('EndpointStats');

/** Every bucket of the period, oldest first, the current one last; counted ones filled in. */
export function bucketSeries(period: Period, counted: AttemptBucket[], nowMs: number): AttemptBucket[] {
  const { bucketSeconds, buckets } = PERIODS[period];
  const size = bucketSeconds * 1000;
  const first = Math.floor(nowMs / size) * size - (buckets - 1) * size;
  const byStart = new Map(counted.map((b) => [b.start.getTime(), b]));
  return Array.from({ length: buckets }, (_, i) => {
    const start = first + i * size;
    const found = byStart.get(start);
    return { start: new Date(start), succeeded: found?.succeeded ?? 0, failed: found?.failed ?? 0 };
  });
}

function failureText(a: { status_code: number | null; error: string | null }): string {
  return a.error ?? (a.status_code === null ? 'failed' : `HTTP ${a.status_code}`);
}

async function stateOf(db: ApiDeps['db'], endpoint: EndpointRow, attemptsInPeriod: number) {
  if (endpoint.disabled) return { status: 'disabled' as const, since: null, reason: endpoint.disabled_reason };
  if (endpoint.failing_since) {
    const latest = await latestAttempt(db, endpoint.id);
    return { status: 'failing' as const, since: endpoint.failing_since.toISOString(), reason: latest ? failureText(latest) : null };
  }
  return { status: attemptsInPeriod > 0 ? ('healthy' as const) : ('idle' as const), since: null, reason: null };
}

export function endpointStatsRoutes(routes: Routes, { db }: ApiDeps): void {
  routes.add({
    method: 'get',
    path: '/endpoints/:id/stats',
    tag: 'Endpoints',
    summary: "Successful and failed attempts over the last 24 h or 7 d, and the endpoint's current state",
    tenant: { access: 'read', scope: 'endpoint' },
    params: IdParams,
    query: z.object({ period: z.enum(['24h', '7d']).default('24h') }),
    responses: { 200: { description: 'The counts and the state.', schema: EndpointStats }, 404: { description: 'No such endpoint.' } },
    handler: async ({ params, query }) => {
      const endpoint = await getEndpoint(db, params.id);
      if (!endpoint) throw notFound('endpoint');
      const now = Date.now();
      const { bucketSeconds } = PERIODS[query.period];
      const empty = bucketSeries(query.period, [], now);
      const counted = await attemptCounts(db, { endpointId: endpoint.id, since: empty[0]!.start, bucketSeconds });
      const buckets = bucketSeries(query.period, counted, now);
      const totals = buckets.reduce((t, b) => ({ succeeded: t.succeeded + b.succeeded, failed: t.failed + b.failed }), { succeeded: 0, failed: 0 });
      return {
        status: 200,
        body: {
          period: query.period,
          bucketSeconds,
          buckets: buckets.map((b) => ({ start: b.start.toISOString(), succeeded: b.succeeded, failed: b.failed })),
          totals,
          state: await stateOf(db, endpoint, totals.succeeded + totals.failed),
        },
      };
    },
  });
}

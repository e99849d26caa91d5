import { z } from './zod';
import { openApiDocument } from './openapi';
import { explainPostgresRefusal } from '../db/connection';
import { temporalTlsRefusal } from '../temporal/connection';
import { operatorKeyOf } from './auth';
import type { ApiDeps } from './deps';
import type { Routes } from './route';

const Status = z
  .object({
    status: z.string(),
    checks: z.record(z.string(), z.string()).optional().openapi({ description: 'Only with an operator key: `ok`, or why a part does not answer.' }),
  })
  .openapi('Status');

export function healthRoutes(routes: Routes, { db, temporal, metrics, config }: ApiDeps): void {
  routes.add({
    method: 'get',
    path: '/healthz',
    tag: 'Health',
    public: true,
    summary: 'Liveness: 200 while the process runs',
    responses: { 200: { description: 'Alive.', schema: Status } },
    handler: () => ({ status: 200, body: { status: 'ok' } }),
  });

  // Public, so a load balancer can probe it; what failed and why (addresses, error text) is the operator's.
  const operatorKey = operatorKeyOf(config.apiKeys);
  routes.add({
    method: 'get',
    path: '/readyz',
    tag: 'Health',
    public: true,
    summary: 'Readiness: 200 when Postgres and Temporal answer, else 503; with an operator key, each check and its error',
    responses: {
      200: { description: 'Ready.', schema: Status },
      503: { description: 'Postgres or Temporal does not answer; `checks` says which and why, to an operator key only.', schema: Status },
    },
    handler: async ({ req }) => {
      const deadline = 2_000;
      const [postgres, temporalCheck] = await Promise.all([
        withTimeout(db.query('SELECT 1'), deadline, (err) => (config.databaseUrl ? explainPostgresRefusal(err, config.databaseUrl) : undefined)),
        withTimeout(temporal.connection.withDeadline(Date.now() + deadline, () => temporal.workflowService.getSystemInfo({})), deadline),
      ]);
      const ok = postgres === 'ok' && temporalCheck === 'ok';
      const status = ok ? 'ready' : 'unavailable';
      const body = operatorKey(req).keyIndex >= 0 ? { status, checks: { postgres, temporal: await explainTemporal(temporalCheck) } } : { status };
      return { status: ok ? 200 : 503, body };
    },
  });

  routes.add({
    method: 'get',
    path: '/metrics',
    tag: 'Health',
    public: true,
    summary: 'Prometheus metrics of ingest and delivery',
    responses: { 200: { description: 'Prometheus text format.' } },
    handler: async ({ res }) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
      return { status: 200, body: undefined };
    },
  });

  let document: object | undefined;
  routes.add({
    method: 'get',
    path: '/openapi.json',
    tag: 'Health',
    public: true,
    summary: 'This OpenAPI 3.1 document',
    responses: { 200: { description: 'The OpenAPI document.' } },
    handler: () => {
      document ??= openApiDocument(routes);
      return { status: 200, body: document };
    },
  });

  /**
   * gRPC says only that a TLS connection failed; a handshake of our own says which certificate was
   * refused and which setting to change (src/temporal/connection.ts), as start-up does.
   */
  async function explainTemporal(check: string): Promise<string> {
    const address = config.temporal.address;
    if (check === 'ok' || !config.temporal.tls || !address) return check;
    const refusal = await temporalTlsRefusal(config.temporal, address, 1_000);
    return refusal ? `unavailable: ${refusal}` : check;
  }
}

/** 'ok', or why not: `explain` may put a TLS refusal into words that name the setting to change. */
async function withTimeout(work: Promise<unknown>, ms: number, explain: (err: unknown) => string | undefined = () => undefined): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms);
  });
  try {
    return await Promise.race([work.then(() => 'ok', (err: Error) => `unavailable: ${explain(err) ?? err.message}`), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

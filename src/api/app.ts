import express, { type Express, type RequestHandler } from 'express';
import { loadConfig } from '../config';
import { createLogger } from '../observability/logger';
import { createMetrics } from '../observability/metrics';
import type { ApiDeps } from './deps';
import { authenticate } from './auth';
import { attemptRoutes } from './attempts';
import { rateLimitPerKey } from './rate-limit';
import { DOCS_ASSETS, docsAssets, docsRoutes } from './docs';
import { endpointRoutes } from './endpoints';
import { endpointStatsRoutes } from './endpoint-stats';
import { ApiError, errorHandler } from './errors';
import { eventRoutes } from './events';
import { eventTypeRoutes } from './event-types';
import { filterRoutes } from './filters';
import { healthRoutes } from './health';
import { openApiDocument } from './openapi';
import { keepRawBody } from './payload';
import { PORTAL_PATH, defaultPortalDir, portalFiles, portalPageRoutes } from './portal-page';
import { portalWriteLimits } from './portal-limits';
import { portalSessionRoutes } from './portal-sessions';
import { requestLogger } from './request-log';
import { requestSpans } from './request-span';
import { Routes, unsupportedMediaType } from './route';

/** Room beyond the payload for the other fields of a body, so MAX_PAYLOAD_BYTES decides and says 413 itself. */
const ENVELOPE_BYTES = 64 * 1024;

export function createApp(deps: ApiDeps): { app: Express; routes: Routes } {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  if (deps.tracer) app.use(requestSpans(deps.tracer));
  app.use(requestLogger(deps.log));
  app.use((req, res, next) => {
    res.on('finish', () => deps.metrics.httpRequests.inc({ method: req.method, status: String(res.statusCode) }));
    next();
  });

  const publicRouter = express.Router();
  const privateRouter = express.Router();
  const routes = new Routes(publicRouter, privateRouter, deps.db, portalWriteLimits(deps.db, deps.config.portal.limits));
  healthRoutes(routes, deps);
  docsRoutes(routes);
  publicRouter.use(DOCS_ASSETS, docsAssets());
  const portal = { dir: deps.portalDir ?? defaultPortalDir(), frameAncestors: deps.config.portal.frameAncestors };
  portalPageRoutes(routes, portal);
  publicRouter.use(PORTAL_PATH, portalFiles(portal));
  eventRoutes(routes, deps);
  endpointRoutes(routes, deps);
  filterRoutes(routes, deps);
  endpointStatsRoutes(routes, deps);
  attemptRoutes(routes, deps);
  eventTypeRoutes(routes, deps);
  portalSessionRoutes(routes, deps);

  app.use(publicRouter);
  app.use(authenticate(deps.config.apiKeys, deps.db));
  app.use(rateLimitPerKey(deps.config.ingestRateLimit));
  app.use(requireJson);
  // The body's bytes are kept for POST /events, which reads its payload from them as written (payload.ts).
  app.use(express.json({ limit: deps.config.maxPayloadBytes + ENVELOPE_BYTES, strict: false, type: () => true, verify: keepRawBody }));
  app.use(privateRouter);
  app.use((_req, _res, next) => next(new ApiError(404, 'not_found', 'No such route.')));
  app.use(errorHandler(deps.log, deps.config.maxPayloadBytes));
  return { app, routes };
}

/** A request that carries a body must say it is JSON; one without a body (a bare POST) is fine. */
const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is('application/json')) return next(unsupportedMediaType());
  next();
};

/**
 * The same document without a running server, for builds (the portal's typed client is generated
 * from it): routes only declare themselves here, and their handlers, the only users of Postgres and
 * Temporal, are never called, so those two are left out.
 */
export function offlineOpenApiDocument(): object {
  const deps: ApiDeps = {
    config: loadConfig({ API_KEYS: 'offline-openapi-document' }),
    log: createLogger('silent'),
    metrics: createMetrics(),
    db: undefined as never,
    temporal: undefined as never,
  };
  return openApiDocument(createApp(deps).routes);
}

import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { createMetrics } from '../metrics';
import { VERSION } from '../version';
import type { ApiDeps } from './deps';
import type { Routes } from './route';

export function openApiDocument(routes: Routes): object {
  return new OpenApiGeneratorV31(routes.registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'hookflow', version: VERSION, description: 'Webhook delivery on Temporal and Postgres.' },
  });
}

/**
 * The same document without a running server, for builds (the portal's typed client is generated
 * from it): routes only declare themselves here, and their handlers, the only users of Postgres and
 * Temporal, are never called, so those two are left out.
 */
export async function offlineOpenApiDocument(): Promise<object> {
  const { createApp } = await import('./app');
  const deps: ApiDeps = {
    config: loadConfig({ API_KEYS: 'offline-openapi-document' }),
    log: createLogger('silent'),
    metrics: createMetrics(),
    db: undefined as never,
    temporal: undefined as never,
  };
  return openApiDocument(createApp(deps).routes);
}

import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { VERSION } from '../lib/version';
import type { Routes } from './route';

export function openApiDocument(routes: Routes): object {
  return new OpenApiGeneratorV31(routes.registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'hookflow', version: VERSION, description: 'Webhook delivery on Temporal and Postgres.' },
  });
}

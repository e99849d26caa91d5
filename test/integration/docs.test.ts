import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileErrors, validate } from '@readme/openapi-parser';
import { chromium } from 'playwright-core';
import { createApp } from '../../src/api/app';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { CHROMIUM_PATH } from '../support/chromium';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * The API reference: `GET /openapi.json` describes every route the server has and is valid OpenAPI
 * 3.1, and `GET /docs` renders it in a real browser from files this server serves itself.
 */
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

let stack: TestStack;
let document: any;
beforeAll(async () => {
  stack = await startTestStack({}, { roles: ['api'] });
  // No Authorization header: the document is public, like /healthz.
  const response = await fetch(`${stack.apiUrl}/openapi.json`);
  expect(response.status).toBe(200);
  document = await response.json();
});
afterAll(() => stack?.stop());

/** `GET /endpoints/{id}` for every operation in the document. */
function documentedOperations(): string[] {
  return Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

const openApiPath = (expressPath: string) => expressPath.replace(/:(\w+)/g, '{$1}');

/**
 * Every route Express would dispatch to, read from its routers rather than from `routes.declared`,
 * so a route added with a bare `router.get(...)` (and so missing from the document) is caught too.
 * Routers here are mounted without a prefix; a prefixed one would show up as wrong paths and fail.
 */
function expressRoutes(app: Express): string[] {
  type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
  const found: string[] = [];
  const walk = (layers: Layer[]) => {
    for (const layer of layers) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== '_all') found.push(`${method.toUpperCase()} ${openApiPath(layer.route.path)}`);
        }
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

describe('GET /openapi.json', () => {
  it('describes every route the app declares, and nothing else', () => {
    const { app, routes } = createApp({
      db: stack.db,
      temporal: stack.temporal,
      config: stack.config,
      log: createLogger('silent'),
      metrics: createMetrics(),
    });
    const declared = routes.declared.map((r) => `${r.method.toUpperCase()} ${openApiPath(r.path)}`);
    const documented = documentedOperations();

    expect(declared.length).toBeGreaterThan(15);
    expect(new Set(declared).size, 'a route is declared twice').toBe(declared.length);
    expect([...documented].sort()).toEqual([...declared].sort());
    expect([...expressRoutes(app)].sort()).toEqual([...declared].sort());
    expect(documented).toEqual(expect.arrayContaining(['POST /events', 'POST /endpoints/{id}/secret/rotate', 'GET /docs', 'GET /openapi.json']));
  });

  it('is valid OpenAPI 3.1', async () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    const result = await validate(structuredClone(document));
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    expect(result.specification).toBe('OpenAPI');
  });

  it('would be refused by the validator if it were broken', async () => {
    // The check above means something only if the validator rejects what 3.1 forbids.
    const broken = structuredClone(document);
    broken.paths['/endpoints/{id}'].get.parameters = [{ name: 'id', in: 'path', required: false, schema: { type: 'string' } }];
    const result = await validate(broken);
    expect(result.valid).toBe(false);
  });
});

describe('GET /docs', () => {
  it('serves the page and its own copy of Swagger UI, without an API key', async () => {
    const page = await fetch(`${stack.apiUrl}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(html).toContain("url: '/openapi.json'");
    expect(html).not.toMatch(/src="https?:|href="https?:/);

    const script = await fetch(`${stack.apiUrl}/docs/assets/swagger-ui-bundle.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);

    // Only the files the page loads: not the package's demo page, which points at a public petstore.
    const demo = await fetch(`${stack.apiUrl}/docs/assets/index.html`);
    expect(demo.status).toBe(404);
    expect(((await demo.json()) as any).error.code).toBe('not_found');
  });

  it('renders every route in headless Chromium, with no request leaving this server', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const origin = new URL(stack.apiUrl).origin;
      const elsewhere: string[] = [];
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      // The page must work offline: anything not from this server is refused and recorded.
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (new URL(url).origin === origin || url.startsWith('data:')) return route.continue();
        elsewhere.push(url);
        return route.abort();
      });

      await page.goto(`${stack.apiUrl}/docs`);
      await page.getByText('/endpoints/{id}/secret/rotate', { exact: true }).waitFor({ state: 'visible', timeout: 30_000 });
      await page.getByText('/events', { exact: true }).first().waitFor({ state: 'visible' });
      for (const path of Object.keys(document.paths)) {
        await page.getByText(path, { exact: true }).first().waitFor({ state: 'visible', timeout: 5_000 });
      }
      await page.getByRole('heading', { name: /hookflow/ }).first().waitFor({ state: 'visible' });

      expect(elsewhere).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

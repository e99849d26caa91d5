import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';
import { ApiError } from './errors';
import type { Routes } from './route';

export const PORTAL_PATH = '/portal';

/** Where `npm run build:portal` (Vite) writes the page: dist/portal of the package, found from this file. */
export function defaultPortalDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'portal');
}

/**
 * The page runs only what this server serves: no inline script or eval (script-src 'self'), it talks only to
 * this API (connect-src 'self'), and logos may come from any https URL (the session's theme). Embedding is
 * limited to PORTAL_FRAME_ANCESTORS.
 */
export function portalCsp(frameAncestors: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' https: data:",
    "connect-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

function securityHeaders(frameAncestors: string): Record<string, string> {
  return {
    'content-security-policy': portalCsp(frameAncestors),
    // The token rides in the fragment, which is never sent; no-referrer keeps the page's URL out of every request too.
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  };
}

const notBuilt = () => new ApiError(503, 'unavailable', 'The portal page is not built: run `npm run build:portal` (npm install does it too).');

/** `GET /portal`: the page's index.html, never cached, so a new build is picked up at the next visit. */
export function portalPageRoutes(routes: Routes, o: { dir: string; frameAncestors: string }): void {
  const headers = securityHeaders(o.frameAncestors);
  routes.add({
    method: 'get',
    path: PORTAL_PATH,
    tag: 'Customer portal',
    public: true,
    summary: 'The customer portal page; open it with the URL from POST /portal/sessions',
    responses: { 200: { description: 'An HTML page.' }, 503: { description: 'The page is not built (npm run build:portal).' } },
    handler: async ({ res }) => {
      let html: string;
      try {
        html = await readFile(join(o.dir, 'index.html'), 'utf8');
      } catch {
        throw notBuilt();
      }
      res.set({ ...headers, 'cache-control': 'no-store' }).type('html').send(html);
      return { status: 200 };
    },
  });
}

/**
 * The page's other files, under PORTAL_PATH on the public router with the same headers: Vite's hashed
 * bundles under assets/ (their content never changes, so they are cached for good; a missing one is 404)
 * and whatever else the build put beside index.html (icons). Other requests under PORTAL_PATH, such as
 * POST /portal/sessions, pass through to the API.
 */
export function portalFiles(o: { dir: string; frameAncestors: string }): Router {
  const headers = securityHeaders(o.frameAncestors);
  const router = express.Router();
  router.use('/assets', express.static(join(o.dir, 'assets'), {
    index: false,
    dotfiles: 'ignore',
    setHeaders: (res) => res.set({ ...headers, 'cache-control': 'public, max-age=31536000, immutable' }),
  }));
  router.use('/assets', (_req, _res, next) => next(new ApiError(404, 'not_found', 'No such file.')));
  router.use(express.static(o.dir, { index: false, dotfiles: 'ignore', setHeaders: (res) => res.set({ ...headers, 'cache-control': 'no-cache' }) }));
  return router;
}

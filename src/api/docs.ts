import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { type Router } from 'express';
import { ApiError } from './errors';
import type { Routes } from './route';

export const DOCS_ASSETS = '/docs/assets';

/**
 * Swagger UI's files come from the swagger-ui-dist package and are served by this process, so the
 * reference works offline and behind a firewall; no CDN is involved.
 */
const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

// validatorUrl: null keeps Swagger UI from sending the document to validator.swagger.io.
const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>hookflow API reference</title>
  <link rel="stylesheet" href="${DOCS_ASSETS}/swagger-ui.css">
  <link rel="icon" type="image/png" href="${DOCS_ASSETS}/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="docs"></div>
  <script src="${DOCS_ASSETS}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: '/openapi.json',
      dom_id: '#docs',
      deepLinking: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: 'BaseLayout',
    });
  </script>
</body>
</html>
`;

/** `GET /docs`: the API reference, rendered in the browser from `GET /openapi.json`. */
export function docsRoutes(routes: Routes): void {
  routes.add({
    method: 'get',
    path: '/docs',
    tag: 'Health',
    public: true,
    summary: 'This API reference as a page (Swagger UI over /openapi.json)',
    responses: { 200: { description: 'An HTML page.' } },
    handler: ({ res }) => {
      res.type('html').send(PAGE);
      return { status: 200 };
    },
  });
}

/** Only what the page loads: the package also ships a demo page pointed at a public petstore. */
const ASSET_FILES = new Set(['/swagger-ui.css', '/swagger-ui-bundle.js', '/favicon-32x32.png']);

/** The page's script, style and icon; mounted on the public router at DOCS_ASSETS. */
export function docsAssets(): Router {
  const notFound = () => new ApiError(404, 'not_found', 'No such file.');
  const router = express.Router();
  router.use((req, _res, next) => next(ASSET_FILES.has(req.path) ? undefined : notFound()));
  router.use(express.static(SWAGGER_UI_DIR, { index: false, maxAge: '1h' }));
  router.use((_req, _res, next) => next(notFound()));
  return router;
}

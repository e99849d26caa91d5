import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where hookflow's files are. The same modules run as TypeScript sources (tsx, vitest: src/…/*.ts) and
 * compiled (dist/src/…/*.js, from `npm run build:server`); the compiled tree sits one level deeper.
 */
export const COMPILED = import.meta.url.endsWith('.js');

/** The package root, where package.json is. */
export const PACKAGE_ROOT = fileURLToPath(new URL(COMPILED ? '../../../' : '../../', import.meta.url));

/** What `npm run build:server` writes: the compiled code and the prebuilt workflow bundles. */
export const DIST_DIR = join(PACKAGE_ROOT, 'dist');

/** The workflows' entry module in the tree that is running: the one a worker or the build bundles. */
export const WORKFLOWS_PATH = COMPILED ? join(DIST_DIR, 'workflows', 'index.js') : join(PACKAGE_ROOT, 'workflows', 'index.ts');

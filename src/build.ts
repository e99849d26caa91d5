/**
 * The steps of `npm run build:server` after tsc: the SQL migrations beside the compiled src/db/pool.js,
 * which finds them next to itself, and the prebuilt workflow bundles. Runs compiled, from dist/src/build.js.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { DIST_DIR, PACKAGE_ROOT } from './lib/paths';
import { buildWorkflowBundles } from './temporal/workflow-bundle';

cpSync(join(PACKAGE_ROOT, 'src', 'db', 'migrations'), join(DIST_DIR, 'src', 'db', 'migrations'), { recursive: true });
await buildWorkflowBundles();

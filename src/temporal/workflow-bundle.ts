import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import { COMPILED, DIST_DIR, WORKFLOWS_PATH } from '../lib/paths';
import { WORKFLOW_INTERCEPTORS } from '../observability/tracing';

/**
 * Production workers load workflow code bundled once by `npm run build:server`, as samples-typescript's
 * `production/` sample does, instead of running webpack at every start. Two bundles: the OpenTelemetry
 * workflow interceptors add a span and a sink call to every workflow task, so only the bundle a worker
 * with OTEL_EXPORTER_OTLP_ENDPOINT loads carries them.
 */
export const WORKFLOW_BUNDLES = {
  plain: join(DIST_DIR, 'workflow-bundle.js'),
  tracing: join(DIST_DIR, 'workflow-bundle-tracing.js'),
} as const;

export async function buildWorkflowBundles(): Promise<void> {
  for (const [kind, path] of Object.entries(WORKFLOW_BUNDLES)) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      workflowInterceptorModules: kind === 'tracing' ? [WORKFLOW_INTERCEPTORS] : [],
      logger: quiet,
    });
    writeFileSync(path, code);
    process.stdout.write(`${path}: ${(code.length / 1024 / 1024).toFixed(1)} MiB\n`);
  }
}

/** webpack's statistics at info level are noise in a build log; warnings and errors still show. */
const quiet = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: unknown) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: unknown) => console.error(message, meta ?? ''),
};

/**
 * The prebuilt bundle when running compiled code (dist/); undefined when running the TypeScript sources
 * (`npm run dev`), whose worker bundles the workflows as they are now.
 */
export function prebuiltWorkflowBundle(tracing: boolean): WorkflowBundleOption | undefined {
  if (!COMPILED) return undefined;
  const codePath = tracing ? WORKFLOW_BUNDLES.tracing : WORKFLOW_BUNDLES.plain;
  if (!existsSync(codePath)) throw new Error(`The prebuilt workflow bundle ${codePath} is missing: run \`npm run build\` in ${join(DIST_DIR, '..')}.`);
  return { codePath };
}

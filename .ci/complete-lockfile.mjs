// The npm mirror on the CI machines serves only the linux-x64 builds of packages that ship one
// binary package per platform (@swc/core-*, @rollup/rollup-*). `npm install` then leaves the other
// platforms out of package-lock.json, and `npm ci` refuses the lock as "out of sync".
// This adds the missing entries with their os/cpu/libc constraints, exactly as npm writes them when
// the registry serves them, so `npm ci` skips them here and fetches them on a developer's Mac.
// Run after `npm install` changed the lock: node .ci/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openbsd', 'openharmony', 'sunos', 'aix', 'netbsd'];
const CPU = { arm64: 'arm64', x64: 'x64', ia32: 'ia32', arm: 'arm', ppc64: 'ppc64', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.map((p) => (p === 'gnueabihf' || p === 'musleabihf' ? null : CPU[p])).find(Boolean);
  const entry = {};
  if (os) entry.os = [os];
  if (cpu) entry.cpu = [cpu];
  if (parts.some((p) => p.startsWith('musl'))) entry.libc = ['musl'];
  else if (parts.some((p) => p.startsWith('gnu'))) entry.libc = ['glibc'];
  return os || cpu ? entry : null;
}

let added = 0;
for (const pkg of Object.values(lock.packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const depPath = `node_modules/${dep}`;
    const platform = platformOf(dep);
    if (lock.packages[depPath] || !platform || !/^\d+\.\d+\.\d+/.test(version)) continue;
    lock.packages[depPath] = { version, optional: true, ...platform };
    added += 1;
  }
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
lock.packages = sorted;
writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
console.log(`package-lock.json: added ${added} platform entries`);

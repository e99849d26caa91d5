import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../src/webhooks/signing';
import { freePort } from '../../src/embedded/postgres';
import { waitFor } from '../support/receiver';
import { API_KEY, startTestStack, type TestStack } from '../support/stack';

/**
 * @hookflow/client as a producer gets it: `npm pack`ed, installed into a scratch project by the README's own
 * install line (from a registry on this machine that serves the packed tarball under @hookflow), type-checked
 * there with its published .d.ts, and the README's send and verify snippets run as written.
 */
const run = promisify(execFile);
const root = process.cwd();
const scratch = mkdtempSync(join(tmpdir(), 'hookflow-client-'));
const children: ChildProcess[] = [];
let registry: Server;
let stack: TestStack;

/** The README's fenced blocks under "## The TypeScript client": install (sh), send (js), verify (js). */
function readmeSnippets(): { install: string; send: string; verify: string } {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The TypeScript client'), readme.indexOf('\n## ', readme.indexOf('## The TypeScript client') + 3));
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], code: m[2]! }));
  expect(blocks.map((b) => b.lang)).toEqual(['sh', 'js', 'js']);
  return { install: blocks[0]!.code, send: blocks[1]!.code, verify: blocks[2]!.code };
}

beforeAll(async () => {
  stack = await startTestStack();
  // Packed from the dist/ `npm run build` made: --ignore-scripts, so prepack's rebuild cannot pull dist/ from under other test files.
  await run('npm', ['pack', '--workspace', '@hookflow/client', '--ignore-scripts', '--pack-destination', scratch], { cwd: root });
  const tarballName = readdirSync(scratch).find((f) => f.endsWith('.tgz'))!;
  const tarball = readFileSync(join(scratch, tarballName));
  const manifest = JSON.parse(readFileSync(join(root, 'packages/client/package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };
  // The smallest npm registry: the package document, and the tarball it points at.
  registry = createServer((req, res) => {
    const base = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;
    if (req.url?.endsWith('.tgz')) return res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarball);
    if (decodeURIComponent(req.url ?? '') !== `/${manifest.name}`) return res.writeHead(404).end('{}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      name: manifest.name,
      'dist-tags': { latest: manifest.version },
      versions: {
        [manifest.version]: {
          ...manifest,
          dist: { tarball: `${base}/${tarballName}`, integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}` },
        },
      },
    }));
  });
  await new Promise<void>((resolveListen) => registry.listen(0, '127.0.0.1', resolveListen));
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  writeFileSync(join(scratch, '.npmrc'), `@hookflow:registry=http://127.0.0.1:${(registry.address() as AddressInfo).port}/\n`);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  registry?.close();
  await stack?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('@hookflow/client, packed and installed', () => {
  it("installs with the README's install line", async () => {
    await run('sh', ['-c', readmeSnippets().install], { cwd: scratch, timeout: 180_000 });
    const installed = JSON.parse(readFileSync(join(scratch, 'node_modules/@hookflow/client/package.json'), 'utf8')) as { files: string[] };
    expect(installed.files).toContain('dist');
    expect(readdirSync(join(scratch, 'node_modules/@hookflow/client/dist'))).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'openapi.d.ts']));
  });

  it('type-checks a correct use and refuses a wrong field', async () => {
    const tsconfig = (file: string) => JSON.stringify({
      // skipLibCheck, as most projects have it: standardwebhooks' declarations name Node's Buffer, and no @types/node is installed here.
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2023', 'dom'], types: [], noEmit: true, skipLibCheck: true },
      files: [file],
    });
    writeFileSync(join(scratch, 'good.ts'), `
import { Hookflow, HookflowError, verify, type Endpoint } from '@hookflow/client';
const hookflow = new Hookflow('http://127.0.0.1:3000', 'key');
const accepted = await hookflow.events.send({ tenantId: 'acme', type: 'sync.completed', payload: { rows: 1 } });
const id: string = accepted.id;
for await (const endpoint of hookflow.endpoints.list({ tenantId: 'acme' })) {
  const e: Endpoint = endpoint;
  const url: string = e.url;
}
const page = await hookflow.events.list({ status: 'failed', limit: 10 });
const cursor: string | null = page.nextCursor;
try { await hookflow.events.get(id); } catch (err) { if (err instanceof HookflowError) { const code: string = err.code; } }
const event = verify<{ rows: number }>('whsec_x', '{}', { 'webhook-id': 'x' });
const rows: number = event.data.rows;
`);
    writeFileSync(join(scratch, 'bad.ts'), `
import { Hookflow } from '@hookflow/client';
const hookflow = new Hookflow('http://127.0.0.1:3000', 'key');
await hookflow.events.send({ tenantID: 'acme', type: 'sync.completed', payload: {} });
const endpoint = await hookflow.endpoints.get('ep_1');
const url: number = endpoint.url;
`);
    writeFileSync(join(scratch, 'tsconfig.good.json'), tsconfig('good.ts'));
    writeFileSync(join(scratch, 'tsconfig.bad.json'), tsconfig('bad.ts'));
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.good.json'], { cwd: scratch });
    const failed = await run(process.execPath, [tsc, '-p', 'tsconfig.bad.json'], { cwd: scratch }).then(() => undefined, (err: { stdout: string }) => err.stdout);
    expect(failed, 'the wrong fields must not compile').toBeDefined();
    expect(failed).toMatch(/bad\.ts\(4,.*'tenantID' does not exist/);
    expect(failed).toMatch(/bad\.ts\(6,.*Type 'string' is not assignable to type 'number'/);
  });

  it("runs the README's send and verify snippets as written", async () => {
    const { send, verify } = readmeSnippets();
    writeFileSync(join(scratch, 'send.mjs'), send);
    writeFileSync(join(scratch, 'receiver.mjs'), verify);
    const secret = generateSecret();
    const port = await freePort();
    const receiver = spawn(process.execPath, ['receiver.mjs'], { cwd: scratch, env: { ...process.env, PORT: String(port), HOOKFLOW_SECRET: secret }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(receiver);
    let printed = '';
    receiver.stdout.on('data', (c: Buffer) => (printed += c.toString()));
    receiver.stderr.on('data', (c: Buffer) => (printed += c.toString()));
    const url = `http://127.0.0.1:${port}/webhooks`;
    await waitFor(() => fetch(url, { method: 'POST', body: '{}' }).then((r) => r.status === 400, () => false), `the receiver snippet to answer: ${printed}`);

    expect((await stack.request('POST', '/endpoints', { tenantId: 'acme', url, secret })).status).toBe(201);
    const { stdout } = await run(process.execPath, ['send.mjs'], { cwd: scratch, env: { ...process.env, HOOKFLOW_API_URL: stack.apiUrl, HOOKFLOW_API_KEY: API_KEY } });
    const id = stdout.trim();
    // Without an id, the event's id is the Idempotency-Key the client made for it.
    expect(id).toMatch(/^[A-Za-z0-9_.:-]{1,128}$/);
    await waitFor(() => printed.includes(`sync.completed ${id}`), `the receiver snippet to verify and print the event: ${printed}`);
    expect(printed).toMatch(/syncId: '8812'/);
    await waitFor(async () => (await stack.request('GET', `/events/${id}`)).body.deliveries[0]?.status === 'succeeded', 'its 204 recorded');
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { generateSecret } from '../../src/webhooks/signing';
import { freePort } from '../../src/embedded/postgres';
import { processesOn } from '../support/processes';
import { Receiver, waitFor } from '../support/receiver';

/**
 * `hookflow start` as a user runs it (`npm start` runs exactly this): embedded Temporal and Postgres
 * under the data dir, a generated API key, Ctrl-C stops everything, and a restart keeps the data.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'hookflow-start-'));
chmodSync(dataDir, 0o755);
const running: ChildProcess[] = [];
let receiver: Receiver | undefined;

afterAll(async () => {
  for (const child of running) if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

type Started = { child: ChildProcess; apiUrl: string; output: () => string; exited: Promise<number | null> };

async function start(env: Record<string, string>): Promise<Started> {
  const child = spawn('npm', ['start'], {
    env: { ...process.env, ...env, HOOKFLOW_DATA_DIR: dataDir, TEMPORAL_CLI_PATH: inject('temporalBinary'), ALLOW_PRIVATE_NETWORK: 'true', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.push(child);
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const apiUrl = await waitFor(() => /"api":"(http:\/\/[^"]+)"/.exec(output)?.[1], `hookflow start to be ready; output so far:\n${output}`, 150_000);
  return { child, apiUrl, output: () => output, exited };
}

/**
 * Ctrl-C as a terminal sends it: SIGINT to the whole foreground process group (npm, node, the Temporal
 * dev server and Postgres), and npm forwards its copy to node as well. One Ctrl-C is one clean stop: exit
 * 0, every part stopped by its own orderly shutdown (none had to be killed after its grace period, which
 * hookflow logs), and nothing left running. How long that takes is the machine's business.
 */
async function stopWithCtrlC(s: Started): Promise<void> {
  process.kill(-s.child.pid!, 'SIGINT');
  const code = await s.exited;
  expect(code).toBe(0);
  expect(s.output()).toContain('"msg":"stopped cleanly"');
  expect(s.output()).not.toContain('exiting now');
  expect(s.output()).not.toMatch(/died|restarting it/);
  expect(s.output()).not.toMatch(/did not stop within/);
  await waitFor(() => processesOn(dataDir).length === 0 || undefined, 'no process left on the data dir', 20_000);
}

describe('npm start', () => {
  it('runs the whole service, stops cleanly on one Ctrl-C, and keeps its data across a restart', async () => {
    receiver = await Receiver.start();
    const ports = { PORT: '0', TEMPORAL_DEV_PORT: String(await freePort()), TEMPORAL_UI_PORT: String(await freePort()) };
    const first = await start(ports);
    const key = /Generated an API key[^\n]*\n\n {2}(\S+)/.exec(first.output())?.[1];
    expect(key).toMatch(/^hf_/);
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

    const ui = await fetch(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`);
    expect(ui.status).toBe(200);
    const secret = generateSecret();
    const endpoint = (await (await fetch(`${first.apiUrl}/endpoints`, { method: 'POST', headers: auth, body: JSON.stringify({ tenantId: 'acme', url: receiver.url(), secret }) })).json()) as { id: string };
    const sent = await fetch(`${first.apiUrl}/events`, { method: 'POST', headers: auth, body: JSON.stringify({ tenantId: 'acme', type: 'sync.completed', payload: { rows: 1 } }) });
    expect(sent.status).toBe(202);
    const { id } = (await sent.json()) as { id: string };
    await waitFor(() => receiver!.received.length === 1, 'the delivery');
    expect(receiver.received[0]!.headers['webhook-id']).toBe(id);

    await stopWithCtrlC(first);
    // The logs of the whole run: the key only in its one-time banner, the endpoint's secret nowhere.
    expect(first.output().split(key!).length - 1).toBe(1);
    expect(first.output()).not.toContain(secret);
    expect(first.output()).not.toContain(secret.slice('whsec_'.length));

    const second = await start(ports);
    expect(second.output()).not.toContain('Generated an API key');
    const event = (await (await fetch(`${second.apiUrl}/events/${id}`, { headers: auth })).json()) as { deliveries: unknown[] };
    expect(event.deliveries).toEqual([expect.objectContaining({ endpointId: endpoint.id, status: 'succeeded', attempts: 1 })]);
    // Temporal's history survived too: the operator can still find the delivery.
    const described = await fetch(`${second.apiUrl}/readyz`);
    expect(described.status).toBe(200);
    await stopWithCtrlC(second);
    expect(second.output()).not.toContain(key!);
    expect(second.output()).not.toContain(secret);
  }, 400_000);
});

describe('npm start that cannot start', () => {
  it('logs the cause (message and stack) at fatal before it exits 1, and leaves nothing running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookflow-fail-'));
    // Another program holds the dev server's port for good.
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    try {
      const child = spawn('npm', ['start'], {
        env: { ...process.env, HOOKFLOW_DATA_DIR: dir, PORT: '0', API_KEYS: 'k', TEMPORAL_CLI_PATH: inject('temporalBinary'), TEMPORAL_DEV_PORT: String(port), TEMPORAL_UI_PORT: String(await freePort()) },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      running.push(child);
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code).toBe(1);
      const fatal = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message: string; stack: string } })
        .find((line) => line.level === 60);
      const sentence = `Port ${port} (TEMPORAL_DEV_PORT) is still in use after 15 s: stop the program using it or set TEMPORAL_DEV_PORT to a free port.`;
      expect(fatal?.msg).toBe(`start-up failed: ${sentence}`);
      expect(fatal?.err?.message).toBe(sentence);
      // npm start runs the build: the stack points into dist/.
      expect(fatal?.err?.stack).toMatch(/dist\/src\/embedded\/dev-server\.js:\d+/);
      // The Postgres it had started is stopped again.
      await waitFor(() => processesOn(dir).length === 0 || undefined, 'no process left on the data dir', 20_000);
    } finally {
      holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESPONSE_BODY_LIMIT, RESPONSE_DRAIN_LIMIT } from '../../src/webhooks/http';
import { waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * Receivers that misbehave at the TCP level: each attempt fails with an error text, the delivery ends as
 * failed on its schedule, and what the worker reads and keeps of a response stays bounded.
 */
let stack: TestStack;
const servers: Server[] = [];
beforeAll(async () => {
  stack = await startTestStack({ DELIVERY_TIMEOUT: '2s' });
});
afterAll(async () => {
  for (const s of servers) s.close();
  await stack?.stop();
});

async function tcpReceiver(onRequest: (socket: Socket) => void): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', () => onRequest(socket));
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

const behaviours: [string, (socket: Socket) => void, RegExp][] = [
  ['hangs without answering', () => undefined, /DELIVERY_TIMEOUT/],
  ['resets the connection', (socket) => socket.resetAndDestroy(), /ECONNRESET|UND_ERR_SOCKET|other side closed/],
  ['answers garbage instead of HTTP', (socket) => socket.end('garbage, not HTTP\r\n\r\n'), /HPE_|parse|invalid|Expected HTTP/i],
  [
    'sends an endless 200 body',
    (socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n');
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (!socket.destroyed && socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`));
        if (!socket.destroyed) socket.once('drain', pump);
      };
      pump();
    },
    /exceeds|DELIVERY_TIMEOUT/,
  ],
];

describe('misbehaving receivers', () => {
  it.each(behaviours)('a receiver that %s: failed attempts with an error text', async (_name, behaviour, error) => {
    const tenantId = uniqueTenant();
    const url = await tcpReceiver(behaviour);
    const ep = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url, retrySchedule: ['1s'] }));
    const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
    const delivery = await waitFor(async () => {
      const d = (await stack.request('GET', `/events/${sent.body.id}`)).body.deliveries[0];
      return d?.status === 'failed' ? d : undefined;
    }, 'the delivery to fail', 30_000);
    expect(delivery).toMatchObject({ endpointId: ep.body.id, attempts: 2 });
    const attempts = (await stack.request('GET', `/events/${sent.body.id}/attempts`)).body.data;
    expect(attempts).toHaveLength(2);
    for (const a of attempts) {
      expect(a.status).toBe('failed');
      expect(a.error).toMatch(error);
      expect(a.durationMs).toBeLessThan(2_500);
    }
  });

  it('reads at most RESPONSE_DRAIN_LIMIT of each endless body, keeps 4 KiB, and closes every connection', async () => {
    // What bounds the worker's memory is what it reads and keeps, not how its RSS moves (GC and the
    // allocator decide that): each attempt must stop reading after 1 MiB, close the connection and record
    // at most 4 KiB, however long the receiver would go on.
    const connections: { bytesWritten: () => number; closed: boolean }[] = [];
    const url = await tcpReceiver((socket) => {
      const connection = { bytesWritten: () => socket.bytesWritten, closed: false };
      connections.push(connection);
      socket.once('close', () => (connection.closed = true));
      behaviours[3]![1](socket);
    });
    const tenantId = uniqueTenant();
    await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url, retrySchedule: ['1s'] }));
    const ids: string[] = [];
    for (let i = 0; i < 10; i += 1) ids.push((await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id);
    await waitFor(async () => {
      const statuses = await Promise.all(ids.map(async (id) => (await stack.request('GET', `/events/${id}`)).body.deliveries[0]?.status));
      return statuses.every((s) => s === 'failed');
    }, 'all 20 attempts to fail', 120_000);

    expect(connections).toHaveLength(20);
    await waitFor(() => connections.every((c) => c.closed), 'every connection to be closed by the worker');
    // Past the 1 MiB read, only what the socket buffers held on both sides was written (3.8 MiB at most on a
    // loaded 2-core machine); an undici reader that read on for 2 s (DELIVERY_TIMEOUT) took 64 MiB there.
    const writtenMiB = connections.map((c) => c.bytesWritten() / 1024 / 1024);
    console.log(`[reliability] endless bodies: ${JSON.stringify({ connections: connections.length, maxWrittenMiB: Math.max(...writtenMiB).toFixed(1) })}`);
    for (const c of connections) expect(c.bytesWritten()).toBeLessThan(RESPONSE_DRAIN_LIMIT + 32 * 1024 * 1024);
    for (const id of ids) {
      for (const a of (await stack.request('GET', `/events/${id}/attempts`)).body.data) {
        expect(a.error).toMatch(behaviours[3]![2]);
        expect(Buffer.byteLength(a.responseBody)).toBeLessThanOrEqual(RESPONSE_BODY_LIMIT);
      }
    }
  });
});

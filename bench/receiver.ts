/**
 * The benchmark's webhook receivers, in a process of their own so their CPU is not the stack's:
 * `count` HTTP servers on 127.0.0.1, port 0, each answering every POST with 200 at once. Each receipt
 * (webhook-id, path, arrival time in ms since the epoch) goes back to the parent over IPC, batched
 * every 20 ms so the channel costs little at thousands of receipts a second.
 *
 * Started by bench/run.ts with child_process.fork; exits when the parent goes away.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Receipt = [webhookId: string, path: string, at: number];
export type ReceiverMessage = { type: 'ready'; ports: number[] } | { type: 'receipts'; receipts: Receipt[] };

const count = Number(process.argv[2] ?? '4');
if (!process.send) throw new Error('bench/receiver.ts must be forked with an IPC channel');
const send = (message: ReceiverMessage) => process.send!(message);

let batch: Receipt[] = [];
const flush = () => {
  if (batch.length === 0 || !process.connected) return;
  send({ type: 'receipts', receipts: batch });
  batch = [];
};
setInterval(flush, 20);

const servers: Server[] = [];
for (let i = 0; i < count; i += 1) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      batch.push([String(req.headers['webhook-id'] ?? ''), req.url ?? '/', Date.now()]);
      if (batch.length >= 1_000) flush();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  // Longer than the delivery client's 10 s keep-alive, so the server never closes a socket the client reuses.
  server.keepAliveTimeout = 15_000;
  servers.push(server);
}
await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
send({ type: 'ready', ports: servers.map((s) => (s.address() as AddressInfo).port) });

process.on('disconnect', () => {
  for (const s of servers) s.closeAllConnections();
  process.exit(0);
});

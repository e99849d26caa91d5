import { afterEach } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Received = { headers: IncomingHttpHeaders; body: string; path: string; at: number };
/** `held`: the answer waits until this settles, so a test can hold an attempt at the point it needs. */
export type Answer = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number; held?: Promise<unknown> };

/**
 * A real HTTP receiver on port 0 that records every request and answers what the test says
 * (after svix-webhooks' TestReceiver). `answer` gets the request and how many came before it.
 */
export class Receiver {
  readonly received: Received[] = [];
  answer: (r: Received, index: number) => Answer = () => ({ status: 200, body: 'ok' });
  private server!: Server;

  static async start(answer?: Receiver['answer']): Promise<Receiver> {
    const receiver = new Receiver();
    if (answer) receiver.answer = answer;
    receiver.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '/', at: Date.now() };
        const index = receiver.received.length;
        receiver.received.push(r);
        const a = receiver.answer(r, index);
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(a.status, a.headers);
          res.end(a.body ?? '');
        };
        if (a.held) void a.held.then(send);
        else if (a.delayMs) setTimeout(send, a.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  bodies(): { id: string; type: string; tenantId: string; timestamp: string; data: unknown }[] {
    return this.received.map((r) => JSON.parse(r.body));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls until `check` returns a value that is not undefined/false; never a fixed sleep. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
}

/** For a test file: a way to start receivers that are closed after each test. */
export function receiversClosedAfterEach(): (answer?: Receiver['answer']) => Promise<Receiver> {
  const open: Receiver[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });
  return async (answer) => {
    const r = await Receiver.start(answer);
    open.push(r);
    return r;
  };
}

import { randomUUID } from 'node:crypto';
import { startListener, type Listener } from '../db/listener';
import type { Db } from '../db/pool';
import { RELAY_REPLY_CHANNEL, relayConnected, sendRelayRequest, takeRelayRequest, type StoredResponse } from '../db/relay';
import type { Logger } from '../observability/logger';
import { RELAY_NOT_CONNECTED_CODE } from '../webhooks/classify';
import type { PostResult } from '../webhooks/http';

export type RelayTransport = {
  /** One attempt's signed request to a relay endpoint, answered by the local server behind `hookflow listen`. */
  post(endpointId: string, headers: Record<string, string>, body: string): Promise<PostResult>;
  close(): Promise<void>;
};

/**
 * The worker's side of the relay (docs/relay.md), in place of the HTTP POST for relay endpoints: through
 * Postgres to whichever API process holds the endpoint's connection, and back. The answer is the attempt's
 * result as an HTTP response would be (status, headers, the first 4 KiB of the body); no connection is a
 * failed attempt, `relay not connected`, retried like any other.
 */
export function createRelayTransport(o: { db: Db; log: Logger; timeoutMs: number }): RelayTransport {
  const answered = new Map<string, () => void>();
  let listener: Promise<Listener> | undefined;
  // Started at the first relay attempt: a worker that never relays keeps no connection for it.
  const listening = () =>
    (listener ??= startListener({ db: o.db, channels: [RELAY_REPLY_CHANNEL], log: o.log, onNotification: (_channel, id) => answered.get(id)?.() }).catch((err: unknown) => {
      listener = undefined;
      throw err;
    }));

  async function post(endpointId: string, headers: Record<string, string>, body: string): Promise<PostResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    await listening();
    if (!(await relayConnected(o.db, endpointId))) return notConnected(elapsed());
    const id = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<void>((resolveAnswer) => {
      answered.set(id, resolveAnswer);
      timer = setTimeout(resolveAnswer, o.timeoutMs);
    });
    try {
      await sendRelayRequest(o.db, { id, endpointId, headers, body });
      await answer;
    } finally {
      answered.delete(id);
      clearTimeout(timer);
    }
    // Read whatever the row holds, notified or not: a notification lost with a connection costs only time.
    const row = await takeRelayRequest(o.db, id);
    if (row?.response) return result(row.response, elapsed());
    // Unclaimed: the connection went away between the check and the request.
    if (!row?.claimed) return notConnected(elapsed());
    return {
      outcome: { error: { name: 'TimeoutError', code: 'ABORT_ERR', message: `no complete response within ${o.timeoutMs} ms (DELIVERY_TIMEOUT), through the relay` } },
      durationMs: elapsed(),
      responseBody: '',
    };
  }

  return {
    post,
    async close() {
      await (await listener?.catch(() => undefined))?.close();
    },
  };
}

function result(response: StoredResponse, durationMs: number): PostResult {
  if ('error' in response) return { outcome: { error: response.error }, durationMs, responseBody: '' };
  return { outcome: { statusCode: response.status, headers: lowerCased(response.headers) }, durationMs, responseBody: response.body.replaceAll('\u0000', '\uFFFD') };
}

function notConnected(durationMs: number): PostResult {
  return { outcome: { error: { code: RELAY_NOT_CONNECTED_CODE, message: 'relay not connected' } }, durationMs, responseBody: '' };
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

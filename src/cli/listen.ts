import { request } from 'undici';
import WebSocket from 'ws';
import { rawJson, type Endpoint, type Hookflow } from '@hookflow/client';
import { flatHeaders } from '../webhooks/http';
import { hookflowClient, type ApiTarget } from './client';
import { CLOSE, RELAY_BODY_LIMIT, RELAY_PATH, RELAY_PING_MS, type FromListen, type RelayRequest, type ToListen } from '../relay/protocol';

export type ListenOptions = {
  /** The API and the key: an operator's, or a portal session's token. The WebSocket connects there too. */
  target: ApiTarget;
  /** Where deliveries go: the developer's own server. */
  localUrl: string;
  /** The tenant (with an operator key); a portal session relays for its own and needs none. */
  tenantId?: string;
  eventTypes?: string[];
  channels?: string[];
  /** The payload filter's JSON text (docs/filters.md). */
  filter?: string;
  print(line: string): void;
};

export type Listening = {
  endpoint: Endpoint;
  secret: string;
  /** Resolves with the reason when listen stops for good (the endpoint deleted, the session ended, a refusal). */
  ended: Promise<string>;
  stop(): void;
};

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 10_000;

/**
 * `hookflow listen`: a relay endpoint of the tenant (created, or reused for the same local URL) whose
 * deliveries come down a WebSocket from hookflow and are POSTed here to the local URL, the local answer
 * going back as the attempt's result (docs/relay.md). Nothing listens on this machine but the developer's
 * server; the connection is made outwards and made again whenever it drops.
 */
export async function listen(o: ListenOptions): Promise<Listening> {
  const client = hookflowClient(o.target);
  const tenantId = o.tenantId ?? (await sessionTenant(client));
  const endpoint = await relayEndpoint(client, o, tenantId);
  const secret = await client.endpoints.getSecret(endpoint.id);

  let stopped = false;
  let socket: WebSocket | undefined;
  let endedWith: (reason: string) => void = () => undefined;
  const ended = new Promise<string>((resolveEnded) => (endedWith = resolveEnded));
  let delayMs = RECONNECT_MIN_MS;
  let timeoutMs = 30_000;

  const end = (reason: string) => {
    stopped = true;
    socket?.close(1000);
    endedWith(reason);
  };

  function connect(): void {
    if (stopped) return;
    const url = `${o.target.url.replace(/^http/, 'ws').replace(/\/+$/, '')}${RELAY_PATH}${endpoint.id}`;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${o.target.key}` }, maxPayload: 2 * 1024 * 1024 });
    socket = ws;
    let heard = Date.now();
    const watchdog = setInterval(() => {
      // The service pings every RELAY_PING_MS: three missed, and the connection is dead though no one said so.
      if (Date.now() - heard > 3 * RELAY_PING_MS) ws.terminate();
    }, RELAY_PING_MS);
    ws.on('ping', () => (heard = Date.now()));
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        const message = errorMessage(text) ?? `HTTP ${res.statusCode}`;
        // A refusal for who we are or what we asked for is final; anything else (503, a proxy's 502) is retried.
        if ([401, 403, 404, 409].includes(res.statusCode ?? 0)) end(`hookflow refused the relay: ${res.statusCode} ${message}`);
        else o.print(`hookflow answered ${res.statusCode} ${message}; trying again`);
      });
    });
    ws.on('message', (data) => {
      heard = Date.now();
      const message = JSON.parse((data as Buffer).toString('utf8')) as ToListen;
      if (message.type === 'ready') {
        delayMs = RECONNECT_MIN_MS;
        // A little under the attempt's own deadline, so that a slow local server's timeout still reaches the worker.
        timeoutMs = Math.max(1_000, message.timeoutMs - 1_000);
        o.print(`connected: deliveries to ${endpoint.id} (tenant ${message.tenantId}) go to ${o.localUrl}`);
      } else if (message.type === 'request') {
        // An answer for a connection that closed meanwhile is dropped: hookflow already failed that attempt.
        void forward(message).then((answer) => ws.send(JSON.stringify(answer), () => undefined));
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => {
      clearInterval(watchdog);
      if (stopped) return;
      if (code === CLOSE.endpointGone || code === CLOSE.sessionEnded) return end(`hookflow closed the relay: ${reason.toString()}`);
      o.print(`disconnected (${code}${reason.length ? ` ${reason.toString()}` : ''}); reconnecting in ${Math.round(delayMs / 1000)} s`);
      setTimeout(connect, delayMs);
      delayMs = Math.min(delayMs * 2, RECONNECT_MAX_MS);
    });
  }

  /** One delivery to the local server; its answer, or why there was none. */
  async function forward(r: RelayRequest): Promise<FromListen> {
    const started = performance.now();
    const took = () => `${Math.round(performance.now() - started)} ms`;
    const what = `${eventType(r.body)} ${r.headers['webhook-id'] ?? r.id}`;
    try {
      // Redirects are not followed, as for any endpoint (Standard Webhooks: 3xx is a failure).
      const response = await request(o.localUrl, { method: 'POST', headers: r.headers, body: r.body, signal: AbortSignal.timeout(timeoutMs) });
      const body = await response.body.text();
      o.print(`${new Date().toISOString()} ${what} → ${response.statusCode} in ${took()}`);
      return { type: 'response', id: r.id, status: response.statusCode, headers: flatHeaders(response.headers), body: body.slice(0, RELAY_BODY_LIMIT) };
    } catch (err) {
      const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
      const code = e.name === 'TimeoutError' ? 'ABORT_ERR' : (e.code ?? e.cause?.code);
      const message = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.message ?? String(err));
      o.print(`${new Date().toISOString()} ${what} → failed: ${message} (${took()})`);
      return { type: 'error', id: r.id, code, message: `${o.localUrl}: ${message}` };
    }
  }

  connect();
  return { endpoint, secret, ended, stop: () => end('stopped') };
}

/** A portal session's tenant; a read-only session is refused here, before anything is asked of the API. */
async function sessionTenant(client: Hookflow): Promise<string> {
  const { data, response } = await client.http.GET('/me', {});
  if (!response.ok || !data) throw new Error(`hookflow refused the key: ${response.status}`);
  if (data.kind !== 'tenant') throw new Error('--tenant is required with an operator key.');
  if (data.readOnly) throw new Error('A read-only portal session cannot relay: ask for a session that may write.');
  return data.tenantId;
}

/** The tenant's relay endpoint for this local URL, made to subscribe to what this invocation asks for. */
async function relayEndpoint(client: Hookflow, o: ListenOptions, tenantId: string): Promise<Endpoint> {
  const subscription = {
    eventTypes: o.eventTypes ?? [],
    channels: o.channels ?? [],
    // As written, so its numbers keep their digits; none removes a filter an earlier run set.
    filter: o.filter === undefined ? null : rawJson(o.filter),
  };
  for await (const endpoint of client.endpoints.list({ tenantId })) {
    if (endpoint.relay && endpoint.metadata.listenUrl === o.localUrl) {
      return client.endpoints.update(endpoint.id, subscription);
    }
  }
  return client.endpoints.create({
    tenantId,
    relay: true,
    description: `hookflow listen → ${o.localUrl}`,
    metadata: { listenUrl: o.localUrl },
    ...subscription,
  });
}

/** The message of a refusal in the contract's error shape; undefined for anything else (a proxy's HTML page). */
function errorMessage(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: { message?: string } }).error?.message;
  } catch {
    return undefined;
  }
}

function eventType(body: string): string {
  try {
    const type = (JSON.parse(body) as { type?: unknown }).type;
    return typeof type === 'string' ? type : '?';
  } catch {
    return '?';
  }
}


import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { identifier, type Principal } from '../api/auth';
import { ApiError } from '../api/errors';
import type { Config } from '../config';
import { startListener } from '../db/listener';
import type { Db } from '../db/pool';
import {
  RELAY_CHANNEL, answerRelayRequest, claimRelayRequest, holdRelayLock, relayEndpoint, releaseRelayLock, type RelayNotice, type StoredResponse,
} from '../db/relay';
import type { Logger } from '../observability/logger';
import { RELAY_NOT_CONNECTED_CODE } from '../webhooks/classify';
import { CLOSE, RELAY_PING_MS, parseFromListen, type ToListen } from './protocol';

const RELAY_URL = /^\/relay\/([A-Za-z0-9_-]{1,64})\/?$/;
/** A signed request is at most MAX_PAYLOAD_BYTES and a little; an answer at most RELAY_BODY_LIMIT. */
const MAX_FRAME_BYTES = 64 * 1024;

type Connection = {
  ws: WebSocket;
  endpointId: string;
  principal: Principal;
  authorization: string | undefined;
  /** Requests sent down this connection and not answered yet. */
  waiting: Set<string>;
  alive: boolean;
};

export type RelayHub = { close(): Promise<void> };

/**
 * The API process's side of the relay (docs/relay.md). `hookflow listen` connects a WebSocket to
 * /relay/<endpoint id>, authenticated like every route; while it is connected, this process holds the
 * endpoint's shared advisory lock (so workers know a relay is there), claims the requests workers post
 * for that endpoint, sends them down the connection and stores the local server's answers.
 */
export async function startRelayHub(o: { server: Server; db: Db; config: Config; log: Logger }): Promise<RelayHub> {
  const { db, log } = o;
  const identify = identifier(o.config.apiKeys, db);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const connections = new Map<string, Set<Connection>>();
  const listener = await startListener({
    db,
    channels: [RELAY_CHANNEL],
    log,
    onNotification: (_channel, payload) => void onNotice(payload).catch((err: unknown) => log.error({ err }, 'relay: could not forward a request')),
    // A new listening connection holds none of the old one's locks: take again those of every endpoint relayed here.
    onConnect: async (client) => {
      for (const endpointId of connections.keys()) await holdRelayLock(client, endpointId);
    },
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void upgrade(req, socket, head);
  o.server.on('upgrade', onUpgrade);

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    try {
      const endpointId = RELAY_URL.exec(new URL(req.url ?? '/', 'http://relay').pathname)?.[1];
      if (!endpointId) throw new ApiError(404, 'not_found', 'No such route.');
      const principal = await identify(req.headers.authorization);
      if (principal.kind === 'tenant' && principal.readOnly) throw new ApiError(403, 'forbidden', 'A read-only portal session cannot relay.');
      const endpoint = await relayEndpoint(db, endpointId);
      // Another tenant's endpoint is answered as a missing one, as on every route.
      if (!endpoint || (principal.kind === 'tenant' && endpoint.tenantId !== principal.tenantId)) throw new ApiError(404, 'not_found', 'No endpoint with that id.');
      if (!endpoint.relay) throw new ApiError(409, 'conflict', 'That endpoint is not a relay endpoint: create one with "relay": true (hookflow listen does).');
      wss.handleUpgrade(req, socket, head, (ws) => {
        accept(ws, { endpointId, tenantId: endpoint.tenantId, principal, authorization: req.headers.authorization }).catch((err: unknown) => {
          log.error({ err, endpointId }, 'relay: could not register a connection');
          ws.close(1011, 'hookflow could not register the relay; reconnect');
        });
      });
    } catch (err) {
      refuse(socket, err);
    }
  }

  function refuse(socket: Duplex, err: unknown): void {
    const known = err instanceof ApiError ? err : undefined;
    if (!known) log.error({ err }, 'relay: could not accept a connection');
    const status = known?.status ?? 503;
    const body = JSON.stringify({ error: { code: known?.code ?? 'unavailable', message: known?.message ?? 'The relay could not be opened; try again.' } });
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }

  async function accept(ws: WebSocket, c: { endpointId: string; tenantId: string; principal: Principal; authorization: string | undefined }): Promise<void> {
    const connection: Connection = { ws, endpointId: c.endpointId, principal: c.principal, authorization: c.authorization, waiting: new Set(), alive: true };
    // Registered before anything is awaited, so a connection that closes meanwhile is still let go of.
    ws.on('close', () => void closed(connection));
    const first = !connections.has(c.endpointId);
    if (first) connections.set(c.endpointId, new Set());
    connections.get(c.endpointId)!.add(connection);
    if (first) await holdRelayLock(listener, c.endpointId);
    ws.on('pong', () => (connection.alive = true));
    ws.on('message', (data, isBinary) => {
      const frame = isBinary ? undefined : parseFromListen((data as Buffer).toString('utf8'));
      if (!frame || !connection.waiting.delete(frame.id)) return;
      const response: StoredResponse = frame.type === 'response'
        ? { status: frame.status, headers: frame.headers, body: frame.body }
        : { error: { code: frame.code, message: frame.message } };
      answerRelayRequest(db, frame.id, response).catch((err: unknown) => log.error({ err }, 'relay: could not store an answer'));
    });
    send(ws, { type: 'ready', endpointId: c.endpointId, tenantId: c.tenantId, timeoutMs: o.config.delivery.timeoutMs });
    log.info({ endpointId: c.endpointId, tenantId: c.tenantId }, 'relay connected');
  }

  async function closed(connection: Connection): Promise<void> {
    const set = connections.get(connection.endpointId);
    set?.delete(connection);
    if (set && set.size === 0) {
      connections.delete(connection.endpointId);
      await releaseRelayLock(listener, connection.endpointId).catch((err: unknown) => log.warn({ err }, 'relay: could not release a lock'));
    }
    // A request it had not answered fails now, instead of at DELIVERY_TIMEOUT.
    for (const id of connection.waiting) {
      await answerRelayRequest(db, id, { error: { code: 'ECONNRESET', message: 'the relay disconnected before the local server answered' } }).catch(() => undefined);
    }
    log.info({ endpointId: connection.endpointId }, 'relay disconnected');
  }

  async function onNotice(payload: string): Promise<void> {
    const notice = JSON.parse(payload) as RelayNotice;
    if ('deleted' in notice) {
      for (const connection of connections.get(notice.deleted) ?? []) connection.ws.close(CLOSE.endpointGone, 'the endpoint was deleted');
      return;
    }
    const set = connections.get(notice.endpoint);
    if (!set || set.size === 0) return;
    const request = await claimRelayRequest(db, notice.request);
    if (!request) return;
    // The newest connection of the endpoint gets it: a developer who starts `listen` again wants it there.
    const connection = [...set].at(-1)!;
    if (connection.principal.kind === 'tenant') {
      // A portal session's relay lasts as long as the session: expired or revoked, it gets nothing more.
      const still = await identify(connection.authorization).catch(() => undefined);
      if (!still) {
        connection.ws.close(CLOSE.sessionEnded, 'the portal session has expired or was revoked');
        await answerRelayRequest(db, notice.request, { error: { code: RELAY_NOT_CONNECTED_CODE, message: 'relay not connected' } });
        return;
      }
    }
    connection.waiting.add(notice.request);
    // Forgotten after the attempt's own deadline: the worker has stopped waiting by then.
    setTimeout(() => connection.waiting.delete(notice.request), o.config.delivery.timeoutMs + 5_000).unref();
    send(connection.ws, { type: 'request', id: notice.request, headers: request.headers, body: request.body });
  }

  // Every RELAY_PING_MS a ping; a connection that did not answer the previous one is dropped.
  const pinger = setInterval(() => {
    for (const set of connections.values()) {
      for (const connection of set) {
        if (!connection.alive) connection.ws.terminate();
        connection.alive = false;
        connection.ws.ping();
      }
    }
  }, RELAY_PING_MS);
  pinger.unref();

  return {
    async close() {
      clearInterval(pinger);
      o.server.off('upgrade', onUpgrade);
      for (const set of connections.values()) for (const connection of set) connection.ws.close(CLOSE.goingAway, 'hookflow is stopping');
      await new Promise<void>((resolveClose) => wss.close(() => resolveClose()));
      await listener.close();
    },
  };
}

function send(ws: WebSocket, message: ToListen): void {
  ws.send(JSON.stringify(message));
}

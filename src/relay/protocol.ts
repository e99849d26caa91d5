/**
 * The wire protocol between `hookflow listen` and the API process it connects to (docs/relay.md): JSON text
 * frames on a WebSocket at /relay/<endpoint id>, authenticated like every route (Authorization: Bearer).
 * The service pings every RELAY_PING_MS; a side that hears nothing for three of those drops the connection.
 */

/** Service → listen: once, when the connection is accepted. `timeoutMs` is DELIVERY_TIMEOUT. */
export type Ready = { type: 'ready'; endpointId: string; tenantId: string; timeoutMs: number };
/** Service → listen: one attempt's signed request, to POST to the local URL as it is. */
export type RelayRequest = { type: 'request'; id: string; headers: Record<string, string>; body: string };
/** listen → service: the local server's answer (its body cut to RELAY_BODY_LIMIT bytes). */
export type RelayResponse = { type: 'response'; id: string; status: number; headers: Record<string, string>; body: string };
/** listen → service: the local server gave no answer (`code` as Node names it: ECONNREFUSED, ABORT_ERR, …). */
export type RelayError = { type: 'error'; id: string; code?: string; message: string };

export type ToListen = Ready | RelayRequest;
export type FromListen = RelayResponse | RelayError;

/** Where `listen` connects, and so a relay endpoint's url: <PUBLIC_URL>/relay/<endpoint id>. */
export const RELAY_PATH = '/relay/';
export const RELAY_PING_MS = 20_000;
/** Of a local answer's body, what travels back: the attempt keeps the first 4 KiB of it. */
export const RELAY_BODY_LIMIT = 4096;

/** Close codes past 4000 are the application's: what the service tells listen when it ends a connection. */
export const CLOSE = {
  /** The endpoint was deleted (or was never a relay): listen stops. */
  endpointGone: 4404,
  /** The portal session ended (expired or revoked): listen stops. */
  sessionEnded: 4401,
  /** The API process is stopping: listen reconnects, to another process if there is one. */
  goingAway: 1001,
} as const;

/** A frame from listen, or undefined when it is not one (a bad frame is ignored, never trusted). */
export function parseFromListen(text: string): FromListen | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const m = value as { type?: unknown; id?: unknown; status?: number; headers?: unknown; body?: unknown; code?: unknown; message?: unknown } | null;
  if (!m || typeof m !== 'object' || typeof m.id !== 'string') return undefined;
  if (m.type === 'response' && typeof m.status === 'number' && Number.isInteger(m.status) && m.status >= 100 && m.status <= 999 && typeof m.body === 'string' && isStringRecord(m.headers)) {
    return { type: 'response', id: m.id, status: m.status, headers: m.headers, body: m.body.slice(0, RELAY_BODY_LIMIT) };
  }
  if (m.type === 'error' && typeof m.message === 'string') {
    return { type: 'error', id: m.id, code: typeof m.code === 'string' ? m.code : undefined, message: m.message.slice(0, 1024) };
  }
  return undefined;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return !!value && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

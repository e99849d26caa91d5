import { Agent, request } from 'undici';
import type { AttemptOutcome } from './classify';
import { blockedAddressError, guardedLookup, ipLiteral, isPublicAddress } from './address-guard';

/** Kept from each response, for the attempt record. */
export const RESPONSE_BODY_LIMIT = 4096;
/** Read from each response at most; a longer body fails the attempt, so an endless body cannot hold a slot. */
export const RESPONSE_DRAIN_LIMIT = 1024 * 1024;

export type PostResult = { outcome: AttemptOutcome; durationMs: number; responseBody: string };

export type HttpClient = {
  post(url: string, headers: Record<string, string>, body: string): Promise<PostResult>;
  close(): Promise<void>;
};

/**
 * The one place a delivery touches the network. One keep-alive Agent serves every endpoint; redirects
 * are never followed (Standard Webhooks: 3xx is a failure); the timeout bounds the whole attempt,
 * connect to last byte; at most 4 KiB of the response is read.
 */
export function createHttpClient(opts: { timeoutMs: number; allowPrivateNetwork: boolean }): HttpClient {
  const agent = new Agent({
    keepAliveTimeout: 10_000,
    connections: 64,
    connect: opts.allowPrivateNetwork ? {} : { lookup: guardedLookup },
  });

  async function post(url: string, headers: Record<string, string>, body: string): Promise<PostResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const target = new URL(url);
      const literal = ipLiteral(target);
      if (!opts.allowPrivateNetwork && literal && !isPublicAddress(literal)) throw blockedAddressError(target.hostname, literal);
      const response = await request(target, {
        method: 'POST',
        headers,
        body,
        dispatcher: agent,
        signal: AbortSignal.timeout(opts.timeoutMs),
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
      const responseBody = await readBounded(response.body, RESPONSE_BODY_LIMIT);
      return {
        outcome: { statusCode: response.statusCode, headers: response.headers },
        durationMs: elapsed(),
        responseBody,
      };
    } catch (err) {
      return { outcome: { error: describe(err, opts.timeoutMs) }, durationMs: elapsed(), responseBody: '' };
    }
  }

  return { post, close: () => agent.close() };
}

/**
 * Keeps the first `limit` bytes and reads on (discarding) to the end, so the connection can be reused and
 * the response counts only once it is complete. A body past RESPONSE_DRAIN_LIMIT fails the attempt.
 */
async function readBounded(body: AsyncIterable<Buffer> & { destroy(): void }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let read = 0;
  for await (const chunk of body) {
    read += chunk.length;
    if (read > RESPONSE_DRAIN_LIMIT) {
      body.destroy();
      throw Object.assign(new Error(`the response body exceeds ${RESPONSE_DRAIN_LIMIT} bytes`), { code: 'EHOOKFLOW_RESPONSE_TOO_LARGE' });
    }
    if (kept < limit) {
      chunks.push(chunk);
      kept += chunk.length;
    }
  }
  // Postgres text cannot hold NUL; a receiver's binary answer is kept readable, not rejected.
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8').replaceAll('\u0000', '\uFFFD');
}

function describe(err: unknown, timeoutMs: number): { code?: string; name?: string; message: string } {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return { name: 'TimeoutError', code: 'ABORT_ERR', message: `no complete response within ${timeoutMs} ms (DELIVERY_TIMEOUT)` };
  }
  // fetch-style errors carry the socket's code on `cause`.
  const code = e?.code ?? e?.cause?.code;
  return { code, name: e?.name, message: e?.message ?? e?.cause?.message ?? String(err) };
}

/** Response headers as one string each (a repeated header joined with ", ", as HTTP allows), for records and the relay. */
export function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

/**
 * What one attempt's outcome means for the delivery. Pure: the table in test/unit/classify.test.ts
 * is the specification (Standard Webhooks' advice and the contract's "What a receiver gets").
 */
export type AttemptOutcome =
  | { statusCode: number; headers: Record<string, string | string[] | undefined> }
  | { error: { code?: string; name?: string; message: string } };

export type FailureType = 'HttpError' | 'Timeout' | 'ConnectionError' | 'DnsError' | 'BlockedAddress' | 'RelayNotConnected' | 'NetworkError';

export type Verdict =
  | { outcome: 'success' }
  | { outcome: 'gone'; reason: string }
  | { outcome: 'retry'; failureType: FailureType; reason: string; retryAfterMs?: number };

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT', 'ABORT_ERR', 'UND_ERR_ABORTED']);
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA']);
export const BLOCKED_ADDRESS_CODE = 'EHOOKFLOW_BLOCKED_ADDRESS';
/** A relay endpoint (`hookflow listen`) with no connection to any API process. */
export const RELAY_NOT_CONNECTED_CODE = 'EHOOKFLOW_RELAY_NOT_CONNECTED';

export function classify(result: AttemptOutcome, now = Date.now()): Verdict {
  if ('error' in result) return classifyError(result.error);
  const { statusCode } = result;
  if (statusCode >= 200 && statusCode < 300) return { outcome: 'success' };
  // Standard Webhooks: 410 Gone means the receiver wants no more deliveries.
  if (statusCode === 410) return { outcome: 'gone', reason: 'the endpoint answered 410 Gone' };
  const reason = statusCode >= 300 && statusCode < 400 ? `HTTP ${statusCode} (redirects are not followed)` : `HTTP ${statusCode}`;
  if (statusCode === 429 || statusCode === 503) {
    const retryAfterMs = parseRetryAfter(header(result.headers, 'retry-after'), now);
    if (retryAfterMs !== undefined) return { outcome: 'retry', failureType: 'HttpError', reason, retryAfterMs };
  }
  return { outcome: 'retry', failureType: 'HttpError', reason };
}

function classifyError(error: { code?: string; name?: string; message: string }): Verdict {
  const code = error.code ?? '';
  if (code === BLOCKED_ADDRESS_CODE) return { outcome: 'retry', failureType: 'BlockedAddress', reason: error.message };
  if (code === RELAY_NOT_CONNECTED_CODE) return { outcome: 'retry', failureType: 'RelayNotConnected', reason: 'relay not connected' };
  if (TIMEOUT_CODES.has(code) || error.name === 'TimeoutError') return { outcome: 'retry', failureType: 'Timeout', reason: error.message };
  if (CONNECTION_CODES.has(code)) return { outcome: 'retry', failureType: 'ConnectionError', reason: `${code}: ${error.message}` };
  if (DNS_CODES.has(code)) return { outcome: 'retry', failureType: 'DnsError', reason: `${code}: ${error.message}` };
  return { outcome: 'retry', failureType: 'NetworkError', reason: code ? `${code}: ${error.message}` : error.message };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** RFC 9110: Retry-After is either delay-seconds or an HTTP-date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

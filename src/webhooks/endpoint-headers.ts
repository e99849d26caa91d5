import { inspect } from 'node:util';

/**
 * An endpoint's own headers, sent with every delivery. Most exist to carry a receiver's credential (an
 * `Authorization`, an API key), so those are secrets, as Svix keeps its sensitive headers: stored sealed
 * like signing secrets (src/db/endpoints.ts), and shown as MASK by the API, in attempt records and the portal.
 */

/** What every response shows instead of a sensitive header's value; sent back in a PATCH, it keeps the stored one. */
export const MASK = '********';

const SENSITIVE_NAMES = new Set(['authorization', 'proxy-authorization', 'cookie']);
const SENSITIVE_PARTS = /token|secret|key|auth|password/i;

/** The contract's rule: these names, or a name containing one of those words, in any case. */
export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_NAMES.has(name.toLowerCase()) || SENSITIVE_PARTS.test(name);
}

// Hop-by-hop headers (and Expect) are the connection's business, and undici refuses some of them, which
// would fail every attempt.
const RESERVED_NAMES = new Set([
  'host', 'content-length', 'content-type', 'user-agent',
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect',
]);

/**
 * Why an endpoint may not set this header, or undefined when it may: hookflow sets these itself (the
 * contract lists `host`, `content-length`, `content-type`, `user-agent` and every `webhook-*`, the
 * Standard Webhooks namespace), or the connection does.
 */
export function reservedHeader(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower.startsWith('webhook-')) return 'webhook-* headers are set by hookflow (Standard Webhooks)';
  if (['host', 'content-length', 'content-type', 'user-agent'].includes(lower)) return `${lower} is set by hookflow`;
  if (RESERVED_NAMES.has(lower)) return `${lower} is a hop-by-hop header, set by the connection`;
  return undefined;
}

/**
 * A sensitive header's value as hookflow holds it once read: its text comes out only through `reveal()`,
 * at the moment of the POST. Serialised (JSON, a log line) or inspected, it is the mask, so a careless
 * `log.info({ endpoint })` cannot carry it: redacted by construction, not by care.
 */
export class SensitiveValue {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  reveal(): string {
    return this.#text;
  }

  toJSON(): string {
    return MASK;
  }

  toString(): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }
}

/** An endpoint's headers as read: sensitive values wrapped. */
export type EndpointHeaders = Record<string, string | SensitiveValue>;

/** Sensitive values wrapped, by name, whatever the map holds. */
export function guardHeaders(headers: Record<string, string | SensitiveValue>): EndpointHeaders {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, isSensitiveHeader(name) && typeof value === 'string' ? new SensitiveValue(value) : value]),
  );
}

/** As the API and attempt records show them: sensitive values masked. */
export function maskHeaders(headers: Record<string, string | SensitiveValue>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, isSensitiveHeader(name) || typeof value !== 'string' ? MASK : value]));
}

/** As sent: every value's text. */
export function revealHeaders(headers: EndpointHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, typeof value === 'string' ? value : value.reveal()]));
}

/** The headers as stored: the plain ones in a JSON column, the sensitive ones apart, to be sealed. */
export function splitHeaders(headers: Record<string, string>): { plain: Record<string, string>; sensitive: Record<string, string> } {
  // fromEntries, not assignment: a header named __proto__ stays a header.
  const entries = Object.entries(headers);
  return {
    plain: Object.fromEntries(entries.filter(([name]) => !isSensitiveHeader(name))),
    sensitive: Object.fromEntries(entries.filter(([name]) => isSensitiveHeader(name))),
  };
}

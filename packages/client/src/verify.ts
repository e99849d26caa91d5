import { Webhook, WebhookVerificationError } from 'standardwebhooks';

export { WebhookVerificationError };

/** What a receiver gets from hookflow: the body of every delivery. */
export type WebhookEvent<Data = Record<string, unknown>> = {
  id: string;
  type: string;
  tenantId: string;
  /** ISO-8601: when hookflow accepted the event. */
  timestamp: string;
  data: Data;
};

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

/**
 * Checks a delivery's Standard Webhooks signature (`webhook-id`, `webhook-timestamp`, `webhook-signature`)
 * with the endpoint's `whsec_…` secret, on the raw body as it arrived, and that its timestamp is within
 * five minutes; returns the parsed event, or throws WebhookVerificationError. `headers` may be Node's
 * `req.headers`, a Fetch `Headers` or a plain object.
 */
export function verify<Data = Record<string, unknown>>(secret: string, body: string | Uint8Array, headers: HeaderBag): WebhookEvent<Data> {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  return new Webhook(secret).verify(text, {
    'webhook-id': header(headers, 'webhook-id'),
    'webhook-timestamp': header(headers, 'webhook-timestamp'),
    'webhook-signature': header(headers, 'webhook-signature'),
  }) as WebhookEvent<Data>;
}

function header(headers: HeaderBag, name: string): string {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? '';
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : bag[key];
  return (Array.isArray(value) ? value.join(' ') : value) ?? '';
}

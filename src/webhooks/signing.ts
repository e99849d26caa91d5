import { createHmac, randomBytes } from 'node:crypto';
import { VERSION } from '../lib/version';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the key is the base64 after `whsec_`,
 * the signed content is "{id}.{timestamp}.{body}", and the header lists `v1,<base64 HMAC-SHA256>`
 * once per valid key, space-separated, so receivers accept either key during a rotation.
 */
const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

export function secretBytes(secret: string): Buffer | undefined {
  const match = SECRET.exec(secret);
  if (!match) return undefined;
  const bytes = Buffer.from(match[1]!, 'base64');
  // Buffer.from ignores what is not base64; a round trip shows the text was exactly base64.
  if (bytes.toString('base64') !== match[1]) return undefined;
  return bytes.length >= 24 && bytes.length <= 64 ? bytes : undefined;
}

export function isValidSecret(secret: string): boolean {
  return secretBytes(secret) !== undefined;
}

export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = secretBytes(secret);
  if (!key) throw new Error('not a whsec_ secret of 24 to 64 bytes');
  const digest = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${digest}`;
}

export function signatureHeader(secrets: string[], id: string, timestampSeconds: number, body: string): string {
  return secrets.map((secret) => sign(secret, id, timestampSeconds, body)).join(' ');
}

export type WebhookMessage = { id: string; type: string; tenantId: string; createdAt: Date; payloadJson: string };

/** The body a receiver gets: the envelope, with the payload spliced in as stored text, byte for byte. */
export function envelopeBody(message: WebhookMessage): string {
  return `{"id":${JSON.stringify(message.id)},"type":${JSON.stringify(message.type)},"tenantId":${JSON.stringify(message.tenantId)},"timestamp":${JSON.stringify(message.createdAt.toISOString())},"data":${message.payloadJson}}`;
}

/** What one delivery attempt sends: the envelope, and the headers that sign it with every key given. */
export function webhookRequest(message: WebhookMessage, secrets: string[], nowMs = Date.now()): { body: string; headers: Record<string, string> } {
  const body = envelopeBody(message);
  const timestamp = Math.floor(nowMs / 1000);
  const headers = {
    'content-type': 'application/json',
    'user-agent': `hookflow/${VERSION}`,
    'webhook-id': message.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(secrets, message.id, timestamp, body),
  };
  return { body, headers };
}

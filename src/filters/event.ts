import { envelopeBody, type WebhookMessage } from '../webhooks/signing';

/**
 * The JSON text a filter is matched against: the body the endpoint's receiver gets
 * (`{"id", "type", "tenantId", "timestamp", "data"}`, the payload as its producer wrote it), plus the
 * message's `"channels"`.
 */
export function filterEventText(message: WebhookMessage, channels: string[]): string {
  return `${envelopeBody(message).slice(0, -1)},"channels":${JSON.stringify(channels)}}`;
}

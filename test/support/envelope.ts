/**
 * The `data` part of a delivered body, as text. src/webhooks/signing.ts writes the envelope with the
 * payload's stored text last (`…,"data":<payload>}`), so the text after the fixed fields is the payload.
 */
export function envelopeData(body: string): string {
  const match = /^\{"id":"[^"]*","type":"[^"]*","tenantId":"[^"]*","timestamp":"[^"]*","data":([\s\S]*)\}$/.exec(body);
  if (!match) throw new Error(`not a hookflow envelope: ${body.slice(0, 200)}`);
  return match[1]!;
}

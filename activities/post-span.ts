import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { classify } from '../src/webhooks/classify';
import type { PostResult } from '../src/webhooks/http';

export type PostSpanInfo = { url: string; endpointId: string; messageId: string; attempt: number };

/**
 * The webhook POST as a CLIENT span `webhook.post`, a child of the activity's RunActivity span. It names the
 * endpoint, message, attempt, host and outcome; never the URL's path or query (some receivers put tokens
 * there), the headers (signatures) or the body (the producer's payload).
 */
export async function postSpan(tracer: Tracer, info: PostSpanInfo, post: () => Promise<PostResult>): Promise<PostResult> {
  const attributes = {
    'http.request.method': 'POST',
    'server.address': hostOf(info.url),
    'hookflow.endpoint_id': info.endpointId,
    'hookflow.message_id': info.messageId,
    'hookflow.attempt': info.attempt,
  };
  return tracer.startActiveSpan('webhook.post', { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      const result = await post();
      if ('statusCode' in result.outcome) span.setAttribute('http.response.status_code', result.outcome.statusCode);
      // Anything but a 2xx is a failed attempt; error.type is the failure type the Temporal UI shows for it.
      const verdict = classify(result.outcome);
      if (verdict.outcome !== 'success') {
        span.setAttribute('error.type', verdict.outcome === 'gone' ? 'EndpointGone' : verdict.failureType);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      return result;
    } finally {
      span.end();
    }
  });
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

export type RetryOptions = {
  /** How many times a 429 or 503 is tried again (default 3); 0 turns retries off. */
  retries?: number;
  /** A wait longer than this (a long Retry-After) is not waited for: the error is thrown at once. Default 60 s. */
  maxDelayMs?: number;
};

/** Without Retry-After: 0.5 s, 1 s, 2 s, … */
const BASE_DELAY_MS = 500;

/**
 * A fetch that tries a request again when hookflow answers 429 `rate_limited` or 503 `unavailable`, after
 * the response's Retry-After (seconds or an HTTP date), else a doubling delay. Both answers mean nothing
 * was accepted, so any request may be sent again; a send keeps its Idempotency-Key across tries.
 */
export function retryingFetch(fetchImpl: (request: Request) => Promise<Response>, o: RetryOptions = {}): (request: Request) => Promise<Response> {
  const retries = o.retries ?? 3;
  const maxDelayMs = o.maxDelayMs ?? 60_000;
  return async (request) => {
    for (let attempt = 0; ; attempt += 1) {
      const response = await fetchImpl(attempt < retries ? request.clone() : request);
      if ((response.status !== 429 && response.status !== 503) || attempt >= retries) return response;
      const delayMs = retryDelayMs(response.headers.get('retry-after'), attempt);
      if (delayMs > maxDelayMs) return response;
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  };
}

/** RFC 9110: Retry-After is delay-seconds or an HTTP-date. */
export function retryDelayMs(retryAfter: string | null, attempt: number, now = Date.now()): number {
  const text = retryAfter?.trim() ?? '';
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (!Number.isNaN(date)) return Math.max(0, date - now);
  return BASE_DELAY_MS * 2 ** attempt;
}

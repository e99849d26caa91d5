import { Hookflow, HookflowError, type components } from '@hookflow/client';

export type { components };

export type Endpoint = components['schemas']['Endpoint'];
export type EventType = components['schemas']['EventType'];
export type Message = components['schemas']['Event'];
export type Attempt = components['schemas']['Attempt'];

/** The error body of the contract (status, code, message, details), or a network failure (status 0). */
export { HookflowError as ApiFailure };

// The portal token lives in this module's memory only: never in a URL, storage or cookie.
let token = '';
export function setToken(value: string): void {
  token = value;
}

// Told when the API answers 401: the session expired or was revoked, and nothing on the page will work.
let sessionEnded: () => void = () => undefined;
export function onSessionEnded(listener: () => void): void {
  sessionEnded = listener;
}

/**
 * The page's calls go through @hookflow/client, as any producer's do, with the session's token. No retries:
 * a person is waiting, and a session's 429 says how long to wait in its message.
 */
export const hookflow = new Hookflow(window.location.origin, () => token, { retries: 0, requestInit: { credentials: 'omit', referrerPolicy: 'no-referrer' } });
hookflow.http.use({
  onResponse({ response }) {
    if (response.status === 401) sessionEnded();
    return response;
  },
});

/** Typed calls to the routes the client's methods do not cover (GET /me, stats), and those the screens make. */
export const api = hookflow.http;

/** A call of the client's methods, with a network failure said as a sentence for the person using the page. */
export async function call<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof HookflowError) throw err;
    throw new HookflowError(0, 'network', 'hookflow could not be reached. Check your connection and try again.');
  }
}

/** The data of a typed call (`api.GET(…)`) that succeeded; otherwise throws the server's own error. */
export async function unwrap<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call(request);
  if (!response.ok) throw HookflowError.fromResponse(response, error);
  return data as T;
}

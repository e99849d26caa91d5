import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type { components };

export type Endpoint = components['schemas']['Endpoint'];
export type EventType = components['schemas']['EventType'];
export type Message = components['schemas']['Event'];
export type Attempt = components['schemas']['Attempt'];

/** The error body of the contract, or a network failure, as one sentence for the person using the page. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

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

const bearer: Middleware = {
  onRequest({ request }) {
    request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
};

/** Typed calls to the hookflow API, generated from its OpenAPI document (see package.json build:portal). */
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'omit', referrerPolicy: 'no-referrer' });
api.use(bearer);

type ErrorBody = { error?: { code?: string; message?: string; details?: { path: string; message: string }[] } };

/** The data of a call that succeeded; otherwise throws an ApiFailure with the server's own message. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: Awaited<typeof call>;
  try {
    result = await call;
  } catch {
    throw new ApiFailure(0, 'network', 'hookflow could not be reached. Check your connection and try again.');
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  if (response.status === 401) sessionEnded();
  const body = (error ?? {}) as ErrorBody;
  const message = body.error?.message ?? `The request failed with status ${response.status}.`;
  throw new ApiFailure(response.status, body.error?.code ?? 'unknown', message, body.error?.details ?? []);
}

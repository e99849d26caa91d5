import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './openapi.js';
import { HookflowConnectionError, HookflowError } from './errors.js';
import { serializeJson, type RawJson } from './json.js';
import { PageIterator, type Page } from './pagination.js';
import { retryingFetch, type RetryOptions } from './retry.js';

type Schemas = components['schemas'];
export type Event = Schemas['Event'];
export type EventAccepted = Schemas['EventAccepted'];
export type Delivery = Schemas['Delivery'];
export type Endpoint = Schemas['Endpoint'];
export type EndpointSecret = Schemas['EndpointSecret'];
export type Attempt = Schemas['Attempt'];
export type AttemptDetail = Schemas['AttemptDetail'];
export type EventType = Schemas['EventType'];
export type PortalSession = Schemas['PortalSession'];
export type EndpointQueue = Schemas['EndpointQueue'];
export type FifoQueue = Schemas['FifoQueue'];

type JsonBody<Op> = Op extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type Query<Op> = Op extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
type Ok<Op, Status extends number> = Op extends { responses: { [S in Status]: { content: { 'application/json': infer R } } } } ? R : never;

/** POST /events. `payload` may be `rawJson(text)` to send its numbers' digits and key order as written. */
export type SendEvent = Omit<JsonBody<paths['/events']['post']>, 'payload'> & { payload: JsonBody<paths['/events']['post']>['payload'] | RawJson };
export type ListEvents = Omit<Query<paths['/events']['get']>, 'cursor'>;
export type Redeliver = JsonBody<paths['/events/{id}/redeliver']['post']>;
export type Redelivered = Ok<paths['/events/{id}/redeliver']['post'], 202>;
/** `filter` may be `rawJson(text)`, so its numbers keep their digits (hookflow compares them exactly). */
type WithRawFilter<T> = T extends { filter?: infer F } ? Omit<T, 'filter'> & { filter?: F | RawJson } : T;
export type CreateEndpoint = WithRawFilter<JsonBody<paths['/endpoints']['post']>>;
export type UpdateEndpoint = WithRawFilter<JsonBody<paths['/endpoints/{id}']['patch']>>;
export type ListEndpoints = Omit<Query<paths['/endpoints']['get']>, 'cursor'>;
export type EndpointQueueQuery = Query<paths['/endpoints/{id}/queue']['get']>;
export type RotateSecret = JsonBody<paths['/endpoints/{id}/secret/rotate']['post']>;
export type TestEvent = JsonBody<paths['/endpoints/{id}/test']['post']>;
export type Recover = JsonBody<paths['/endpoints/{id}/recover']['post']>;
export type ListAttempts = Omit<Query<paths['/events/{id}/attempts']['get']>, 'cursor'> & ({ eventId: string } | { endpointId: string });
export type PutEventType = JsonBody<paths['/event-types/{name}']['put']>;
export type CreatePortalSession = JsonBody<paths['/portal/sessions']['post']>;

export type HookflowOptions = RetryOptions & {
  /** The fetch to send requests with (default: the global one), e.g. undici's with a dispatcher of your own. */
  fetch?: (request: Request) => Promise<Response>;
  /** Fetch options for every request, e.g. `{ credentials: 'omit' }` in a browser. */
  requestInit?: Omit<RequestInit, 'body' | 'method' | 'headers' | 'signal'>;
};

/** The typed HTTP client underneath (openapi-fetch), for routes the resource methods do not cover. */
export type HookflowHttp = Client<paths>;

type Result<T> = Promise<{ data?: T; error?: unknown; response: Response }>;

/** The answer's data; hookflow's error shape becomes a HookflowError, no answer a HookflowConnectionError. */
async function ok<T>(call: Result<T>): Promise<T> {
  let result: Awaited<Result<T>>;
  try {
    result = await call;
  } catch (err) {
    throw new HookflowConnectionError(`hookflow could not be reached: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (!result.response.ok) throw HookflowError.fromResponse(result.response, result.error);
  return result.data as T;
}

/**
 * A client of one hookflow API, with an operator key from API_KEYS or a portal token (`hfp_…`, which acts
 * for its own tenant only). `key` may be a function, read at each request.
 *
 *   const hookflow = new Hookflow('https://hooks.example.com', process.env.HOOKFLOW_API_KEY);
 *   await hookflow.events.send({ tenantId: 'acme', type: 'sync.completed', payload: { syncId: '8812' } });
 */
export class Hookflow {
  readonly http: HookflowHttp;

  constructor(url: string, key: string | (() => string), options: HookflowOptions = {}) {
    const fetchImpl = options.fetch ?? ((request: Request) => globalThis.fetch(request));
    this.http = createClient<paths>({
      ...options.requestInit,
      baseUrl: url.replace(/\/+$/, ''),
      fetch: retryingFetch(fetchImpl, options),
      bodySerializer: serializeJson,
    });
    this.http.use({
      onRequest({ request }) {
        request.headers.set('authorization', `Bearer ${typeof key === 'function' ? key() : key}`);
        return request;
      },
    });
  }

  readonly events = {
    /**
     * POST /events: accepted (202) once its workflow is durably started. Every send carries an
     * Idempotency-Key: the event's `id` when given, else one made here, kept across retries, so a
     * retried send never delivers twice.
     */
    send: (event: SendEvent, o: { idempotencyKey?: string } = {}): Promise<EventAccepted> =>
      ok(this.http.POST('/events', {
        body: event as JsonBody<paths['/events']['post']>,
        headers: { 'idempotency-key': o.idempotencyKey ?? event.id ?? globalThis.crypto.randomUUID() },
      })),
    get: (id: string): Promise<Event> => ok(this.http.GET('/events/{id}', { params: { path: { id } } })),
    /** Newest first; `await` for the first page, `for await` for every event. */
    list: (query: ListEvents = {}): PageIterator<Event> =>
      new PageIterator((cursor) => ok(this.http.GET('/events', { params: { query: { ...query, cursor } } }))),
    /** To one endpoint (`endpointId`) or to every endpoint the event was for. */
    redeliver: (id: string, body: Redeliver = {}): Promise<Redelivered> =>
      ok(this.http.POST('/events/{id}/redeliver', { params: { path: { id } }, body })),
  };

  readonly endpoints = {
    create: (endpoint: CreateEndpoint): Promise<Endpoint> =>
      ok(this.http.POST('/endpoints', { body: endpoint as JsonBody<paths['/endpoints']['post']> })),
    get: (id: string): Promise<Endpoint> => ok(this.http.GET('/endpoints/{id}', { params: { path: { id } } })),
    list: (query: ListEndpoints = {}): PageIterator<Endpoint> =>
      new PageIterator((cursor) => ok(this.http.GET('/endpoints', { params: { query: { ...query, cursor } } }))),
    update: (id: string, changes: UpdateEndpoint): Promise<Endpoint> =>
      ok(this.http.PATCH('/endpoints/{id}', { params: { path: { id } }, body: changes as JsonBody<paths['/endpoints/{id}']['patch']> })),
    delete: async (id: string): Promise<void> => {
      await ok(this.http.DELETE('/endpoints/{id}', { params: { path: { id } } }));
    },
    getSecret: async (id: string): Promise<string> =>
      (await ok(this.http.GET('/endpoints/{id}/secret', { params: { path: { id } } }))).secret,
    /** The previous secret keeps signing beside the new one for 24 h. Returns the new secret. */
    rotateSecret: async (id: string, body: RotateSecret = {}): Promise<string> =>
      (await ok(this.http.POST('/endpoints/{id}/secret/rotate', { params: { path: { id } }, body }))).secret,
    test: (id: string, body: TestEvent = {}): Promise<{ id: string }> =>
      ok(this.http.POST('/endpoints/{id}/test', { params: { path: { id } }, body })),
    recover: (id: string, body: Recover): Promise<{ count: number }> =>
      ok(this.http.POST('/endpoints/{id}/recover', { params: { path: { id } }, body })),
    /** A FIFO endpoint's queues (docs/ordering.md): how many deliveries wait, and what each ordering key's queue waits for. */
    queue: (id: string, query: EndpointQueueQuery = {}): Promise<EndpointQueue> =>
      ok(this.http.GET('/endpoints/{id}/queue', { params: { path: { id }, query } })),
  };

  readonly attempts = {
    /** An event's attempts (`eventId`) or an endpoint's (`endpointId`), newest first. */
    list: (query: ListAttempts): PageIterator<Attempt> => {
      const { eventId, endpointId, ...rest } = query as { eventId?: string; endpointId?: string } & Omit<Query<paths['/events/{id}/attempts']['get']>, 'cursor'>;
      return new PageIterator<Attempt>((cursor) =>
        eventId !== undefined
          ? ok(this.http.GET('/events/{id}/attempts', { params: { path: { id: eventId }, query: { ...rest, cursor } } }))
          : ok(this.http.GET('/endpoints/{id}/attempts', { params: { path: { id: endpointId! }, query: { ...rest, cursor } } })),
      );
    },
    /** One attempt with its request and response headers. */
    get: (id: string): Promise<AttemptDetail> => ok(this.http.GET('/attempts/{id}', { params: { path: { id } } })),
  };

  readonly eventTypes = {
    /** Creates or replaces a type; a `schema` (JSON Schema 2020-12) checks every payload of that type. */
    put: (name: string, body: PutEventType = {}): Promise<EventType> =>
      ok(this.http.PUT('/event-types/{name}', { params: { path: { name } }, body })),
    list: async (): Promise<EventType[]> => (await ok(this.http.GET('/event-types', {}))).data,
  };

  readonly portal = {
    /** A session for one tenant's customer portal: send the customer to its `url`. */
    createSession: (body: CreatePortalSession): Promise<PortalSession> => ok(this.http.POST('/portal/sessions', { body })),
    revoke: async (token: string): Promise<void> => {
      await ok(this.http.DELETE('/portal/sessions/{token}', { params: { path: { token } } }));
    },
  };
}

export type { Page };

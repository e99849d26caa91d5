import { randomUUID } from 'node:crypto';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import { z } from './zod';
import {
  deleteEndpoint, getEndpoint, insertEndpoint, insertPortalEndpoint, listEndpoints, rotateSecret, updateEndpoint, type EndpointChanges,
  type EndpointRow, type NewEndpoint,
} from '../db/endpoints';
import { countFailedDeliveries, createDeliveries, insertMessage, markWorkflowStarted } from '../db/messages';
import { dropQueuesOf } from '../db/queues';
import { createTurns } from '../ordering/turns';
import { deliveryStarter } from '../temporal/delivery-starter';
import { queueRoutes } from './queues';
import { formatDuration, parseDuration } from '../lib/duration';
import { newId } from '../lib/ids';
import { JsonText } from '../lib/json-text';
import { generateSecret, isValidSecret } from '../webhooks/signing';
import { ipLiteral, isPublicAddress } from '../webhooks/address-guard';
import { MASK, isSensitiveHeader, maskHeaders, reservedHeader, revealHeaders, type EndpointHeaders } from '../webhooks/endpoint-headers';
import { SEARCH_ATTRIBUTES, deliverySearchAttributes, deliveryWorkflowId, recoverWorkflowId } from '../../workflows/ids';
import { noticeRelayDeleted } from '../db/relay';
import { RELAY_PATH } from '../relay/protocol';
import type { ApiDeps } from './deps';
import {
  Channels, Duration, EventTypeName, IdParams, Instant, JsonObject, List, MAX_JSON_DEPTH, Paging, TenantId, Text, Timestamp,
  afterSeq, byteLength, jsonDepth, payloadTooLarge,
} from './common';
import { notFound, rateLimited, validationFailed } from './errors';
import { FilterBody, readFilter } from './filters';
import type { Routes } from './route';

/** Standard Webhooks: the previous secret keeps signing for 24 h after a rotation. */
export const ROTATION_GRACE_MS = 24 * 3_600_000;

const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'must be an HTTP header name');
// RFC 9110 field-value characters, the set undici sends; anything else would fail every attempt.
const HeaderValue = z.string().max(4096).regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'must be printable ASCII or Latin-1: no CR, LF, NUL or other control characters');
const Headers = z
  .record(HeaderName, HeaderValue)
  .superRefine((headers, ctx) => {
    const names = Object.keys(headers);
    if (names.length > 32) ctx.addIssue({ code: 'custom', message: 'at most 32 headers' });
    const seen = new Set<string>();
    for (const name of names) {
      const reserved = reservedHeader(name);
      if (reserved) ctx.addIssue({ code: 'custom', path: [name], message: `must not be set: ${reserved}` });
      // One header, one value: HTTP names ignore case, and a masked value is matched by name.
      if (seen.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path: [name], message: 'is already given in another case' });
      seen.add(name.toLowerCase());
    }
  })
  .openapi({
    description: 'At most 32. Not host, content-length, content-type, user-agent, webhook-* or hop-by-hop headers. Credentials (authorization, ' +
      `proxy-authorization, cookie, or a name containing token, secret, key, auth or password) are stored encrypted and shown as "${MASK}"; ` +
      `a PATCH that sends "${MASK}" keeps the stored value.`,
  });

const Url = Text
  .max(2048)
  .refine((text) => {
    try {
      const url = new URL(text);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && !url.username && !url.password;
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL without credentials');

const Secret = z.string().refine(isValidSecret, 'must be whsec_ followed by the base64 of 24 to 64 bytes');
const Metadata = JsonObject.refine((m) => byteLength(JSON.stringify(m)) <= 16_384, 'at most 16 KiB');

const EndpointFields = {
  url: Url,
  description: Text.max(1024),
  eventTypes: z.array(EventTypeName).max(100).openapi({ description: 'Absent or empty: every type.' }),
  channels: Channels.openapi({ description: 'Set: only events sharing one of these channels.' }),
  headers: Headers,
  disabled: z.boolean(),
  rateLimitPerSecond: z.number().int().min(1).max(100_000).nullable(),
  retrySchedule: z.array(Duration).min(1).max(20).nullable().openapi({ description: 'Replaces the exponential default: ["10s","100s"] = three attempts.' }),
  metadata: Metadata,
  filter: FilterBody.nullable(),
  ordering: z.enum(['unordered', 'fifo']).openapi({
    description: '"fifo": messages one at a time, in the order they were accepted (per orderingKey); a change applies to messages accepted after it. Default "unordered".',
  }),
};

const EndpointCreate = z
  .object({
    tenantId: TenantId,
    url: EndpointFields.url.optional().openapi({ description: 'Required, unless relay: a relay endpoint\'s url is <PUBLIC_URL>/relay/<id>.' }),
    description: EndpointFields.description.optional(),
    eventTypes: EndpointFields.eventTypes.optional(),
    channels: EndpointFields.channels.optional(),
    secret: Secret.optional(),
    headers: EndpointFields.headers.optional(),
    disabled: EndpointFields.disabled.optional(),
    rateLimitPerSecond: EndpointFields.rateLimitPerSecond.optional(),
    retrySchedule: EndpointFields.retrySchedule.optional(),
    metadata: EndpointFields.metadata.optional(),
    filter: EndpointFields.filter.optional(),
    ordering: EndpointFields.ordering.optional(),
    relay: z.boolean().optional().openapi({ description: '`hookflow listen`\'s endpoint: deliveries travel down its connection to a local URL (docs/relay.md).' }),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (!e.relay && e.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'Required' });
    if (e.relay && e.url !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: "must be absent: a relay endpoint's url is <PUBLIC_URL>/relay/<id>" });
  });

const EndpointPatch = z.object(EndpointFields).partial().strict();

const Endpoint = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    url: z.string(),
    description: z.string(),
    eventTypes: z.array(z.string()),
    channels: z.array(z.string()),
    headers: z.record(z.string(), z.string()).openapi({ description: `Credential headers' values show as "${MASK}".` }),
    disabled: z.boolean(),
    disabledReason: z.string().nullable(),
    rateLimitPerSecond: z.number().int().nullable(),
    retrySchedule: z.array(z.string()).nullable(),
    metadata: z.record(z.string(), z.unknown()),
    relay: z.boolean(),
    filter: FilterBody.nullable().openapi({ description: 'Returned as written: numbers keep their digits.' }),
    ordering: z.enum(['unordered', 'fifo']),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Endpoint');

const SecretBody = z.object({ secret: z.string() }).openapi('EndpointSecret');
const Rotate = z.object({ secret: Secret.optional() }).strict();
const Recover = z
  .object({ since: Instant, until: Instant.optional().openapi({ description: 'Default: now. Deliveries failing again during the recovery are not picked up twice.' }) })
  .strict()
  .refine((r) => r.until === undefined || Date.parse(r.until) > Date.parse(r.since), { message: 'until must be after since', path: ['until'] });

// Nesting is checked before the handler's JSON.stringify, which overflows its stack a few thousand levels down.
const TestPayload = z.record(z.string(), z.unknown()).refine((p) => jsonDepth(p) <= MAX_JSON_DEPTH, `must nest at most ${MAX_JSON_DEPTH} levels`);
const TestSend = z.object({ type: EventTypeName.optional(), payload: TestPayload.optional() }).strict();

function endpointJson(e: EndpointRow) {
  return {
    id: e.id,
    tenantId: e.tenant_id,
    url: e.url,
    description: e.description,
    eventTypes: e.event_types,
    channels: e.channels,
    headers: maskHeaders(e.headers),
    disabled: e.disabled,
    disabledReason: e.disabled_reason,
    rateLimitPerSecond: e.rate_limit_per_second,
    retrySchedule: e.retry_schedule_ms?.map(formatDuration) ?? null,
    metadata: e.metadata,
    relay: e.relay,
    filter: e.filter === null ? null : new JsonText(e.filter),
    ordering: e.ordering,
    createdAt: e.created_at.toISOString(),
    updatedAt: e.updated_at.toISOString(),
  };
}

/** Queues a PATCH that enables an endpoint resumes at once; the reconciler's sweep resumes any others within seconds. */
const RESUME_AT_ONCE = 100;

export function endpointRoutes(routes: Routes, deps: ApiDeps): void {
  const { db, temporal, config } = deps;
  const turns = createTurns({ db, start: deliveryStarter(temporal, config.temporal.taskQueue), log: deps.log });

  /** SSRF guard at create time for IP literals; names are checked when each attempt connects. */
  function checkReachable(url: string | undefined): void {
    if (url === undefined || config.allowPrivateNetwork) return;
    const literal = ipLiteral(new URL(url));
    if (literal && !isPublicAddress(literal)) {
      throw validationFailed('The endpoint URL points at a non-public address.', [
        { path: 'body.url', message: `${literal} is loopback, private, link-local or reserved; set ALLOW_PRIVATE_NETWORK=true to allow it` },
      ]);
    }
  }

  /**
   * A delivery gives up at RETRY_EXPIRY, counted from its first attempt, so a schedule that adds up to more
   * would promise retries that never run, and hold the delivery (and its message, past RETENTION) open.
   */
  function checkRetrySchedule(retrySchedule: string[] | null | undefined): number[] | null | undefined {
    if (!retrySchedule) return retrySchedule;
    const scheduleMs = retrySchedule.map((d) => parseDuration(d)!);
    const totalMs = scheduleMs.reduce((sum, ms) => sum + ms, 0);
    if (totalMs > config.delivery.expiryMs) {
      throw validationFailed('The retry schedule is longer than a delivery may retry.', [
        { path: 'body.retrySchedule', message: `adds up to ${formatDuration(totalMs)}, more than RETRY_EXPIRY (${formatDuration(config.delivery.expiryMs)}), after which a delivery has failed` },
      ]);
    }
    return scheduleMs;
  }

  /**
   * The headers to store: a sensitive header sent as the mask keeps the value stored under that name (in
   * any case), which is how a client that read the endpoint sends its headers back unchanged. A mask with
   * nothing stored behind it is refused rather than delivered as eight asterisks.
   */
  function unmaskHeaders(headers: Record<string, string> | undefined, stored: EndpointHeaders): Record<string, string> | undefined {
    if (headers === undefined) return undefined;
    const current = new Map(Object.entries(revealHeaders(stored)).map(([name, value]) => [name.toLowerCase(), value] as const));
    const problems: { path: string; message: string }[] = [];
    const kept = Object.entries(headers).map(([name, value]) => {
      if (value !== MASK || !isSensitiveHeader(name)) return [name, value] as const;
      const previous = current.get(name.toLowerCase());
      if (previous === undefined) problems.push({ path: `body.headers.${name}`, message: `is "${MASK}", which keeps a stored value, but none is stored under this name: send the value itself` });
      return [name, previous ?? value] as const;
    });
    if (problems.length > 0) throw validationFailed('A header asks to keep a value that is not stored.', problems);
    return Object.fromEntries(kept);
  }

  async function load(id: string): Promise<EndpointRow> {
    const endpoint = await getEndpoint(db, id);
    if (!endpoint) throw notFound('endpoint');
    return endpoint;
  }

  routes.add({
    method: 'post',
    path: '/endpoints',
    tag: 'Endpoints',
    tenant: { access: 'write', scope: 'own-tenant' },
    summary: 'Create an endpoint (a secret is generated when none is given)',
    body: EndpointCreate,
    responses: { 201: { description: 'The endpoint, without its secret.', schema: Endpoint } },
    handler: async ({ body, req, principal }) => {
      checkReachable(body.url);
      const retryScheduleMs = checkRetrySchedule(body.retrySchedule);
      const id = newId('ep');
      const fields: NewEndpoint = {
        id,
        tenantId: body.tenantId,
        url: body.relay ? `${config.portal.publicUrl ?? `http://127.0.0.1:${req.socket.localPort}`}${RELAY_PATH}${id}` : body.url!,
        relay: body.relay ?? false,
        description: body.description ?? '',
        eventTypes: body.eventTypes ?? [],
        channels: body.channels ?? [],
        secret: body.secret ?? generateSecret(),
        headers: unmaskHeaders(body.headers, {}) ?? {},
        disabled: body.disabled ?? false,
        rateLimitPerSecond: body.rateLimitPerSecond ?? null,
        retryScheduleMs: retryScheduleMs ?? null,
        metadata: body.metadata ?? {},
        filterJson: body.filter ? readFilter(req).text : null,
        ordering: body.ordering ?? 'unordered',
      };
      if (principal.kind === 'operator') return { status: 201, body: endpointJson(await insertEndpoint(db, fields)) };
      // A portal session's endpoints are bounded per tenant: each is a URL that test sends and recoveries POST to.
      const maxPerTenant = config.portal.limits.endpointsPerTenant;
      const endpoint = await insertPortalEndpoint(db, fields, { sessionId: principal.sessionId, maxPerTenant });
      if (!endpoint) {
        throw rateLimited(`This tenant has ${maxPerTenant} endpoints created through the portal, the most it may (PORTAL_MAX_ENDPOINTS): delete one to add another.`, 60_000);
      }
      return { status: 201, body: endpointJson(endpoint) };
    },
  });

  routes.add({
    method: 'get',
    path: '/endpoints',
    tag: 'Endpoints',
    tenant: { access: 'read', scope: 'own-tenant' },
    summary: "List endpoints, a tenant's or all, newest first",
    query: z.object({ tenantId: TenantId.optional(), ...Paging }),
    responses: { 200: { description: 'A page of endpoints.', schema: List(Endpoint) } },
    handler: async ({ query }) => {
      const { rows, nextCursor } = await listEndpoints(db, { tenantId: query.tenantId, limit: query.limit, afterSeq: afterSeq(query.cursor) });
      return { status: 200, body: { data: rows.map(endpointJson), nextCursor } };
    },
  });

  routes.add({
    method: 'get',
    path: '/endpoints/:id',
    tag: 'Endpoints',
    tenant: { access: 'read', scope: 'endpoint' },
    summary: 'An endpoint',
    params: IdParams,
    responses: { 200: { description: 'The endpoint.', schema: Endpoint }, 404: { description: 'No such endpoint.' } },
    handler: async ({ params }) => ({ status: 200, body: endpointJson(await load(params.id)) }),
  });

  routes.add({
    method: 'patch',
    path: '/endpoints/:id',
    tag: 'Endpoints',
    tenant: { access: 'write', scope: 'endpoint' },
    summary: 'Change some fields of an endpoint; re-enabling clears the reason it was disabled and resumes its FIFO queues',
    params: IdParams,
    body: EndpointPatch,
    responses: { 200: { description: 'The endpoint.', schema: Endpoint }, 404: { description: 'No such endpoint.' } },
    handler: async ({ params, body, req }) => {
      checkReachable(body.url);
      if (body.url !== undefined) {
        // The portal's form sends the url back unchanged; only a different one is refused.
        const current = await load(params.id);
        if (current.relay && body.url !== current.url) {
          throw validationFailed("A relay endpoint's url is its relay address.", [{ path: 'body.url', message: 'cannot be changed on a relay endpoint' }]);
        }
      }
      const { retrySchedule, filter, ...rest } = body;
      const changes: EndpointChanges = {
        ...rest,
        retryScheduleMs: checkRetrySchedule(retrySchedule),
        // `null` removes the filter; a new one applies to messages resolved after this answer.
        filterJson: filter === undefined ? undefined : filter === null ? null : readFilter(req).text,
      };
      if (body.headers !== undefined) changes.headers = unmaskHeaders(body.headers, (await load(params.id)).headers);
      const endpoint = await updateEndpoint(db, params.id, changes);
      if (!endpoint) throw notFound('endpoint');
      if (body.disabled === false) await turns.resumeEndpoint(endpoint.id, RESUME_AT_ONCE);
      return { status: 200, body: endpointJson(endpoint) };
    },
  });

  routes.add({
    method: 'delete',
    path: '/endpoints/:id',
    tag: 'Endpoints',
    tenant: { access: 'write', scope: 'endpoint' },
    summary: 'Delete an endpoint; its pending deliveries end without another POST',
    params: IdParams,
    responses: { 204: { description: 'Deleted.' }, 404: { description: 'No such endpoint.' } },
    handler: async ({ params }) => {
      if (!(await deleteEndpoint(db, params.id))) throw notFound('endpoint');
      await noticeRelayDeleted(db, params.id);
      // Deliveries waiting in its FIFO queues have no run to end them: they fail now.
      await dropQueuesOf(db, params.id);
      return { status: 204 };
    },
  });

  routes.add({
    method: 'get',
    path: '/endpoints/:id/secret',
    tag: 'Endpoints',
    // `write`: a read-only portal session may watch deliveries but not learn how to forge them.
    tenant: { access: 'write', scope: 'endpoint' },
    summary: "The endpoint's signing secret",
    params: IdParams,
    responses: { 200: { description: 'The secret.', schema: SecretBody }, 404: { description: 'No such endpoint.' } },
    handler: async ({ params }) => ({ status: 200, body: { secret: (await load(params.id)).secret } }),
  });

  routes.add({
    method: 'post',
    path: '/endpoints/:id/secret/rotate',
    tag: 'Endpoints',
    tenant: { access: 'write', scope: 'endpoint' },
    summary: 'Replace the secret; the previous one keeps signing beside it for 24 h',
    params: IdParams,
    body: Rotate,
    responses: { 200: { description: 'The new secret.', schema: SecretBody }, 404: { description: 'No such endpoint.' } },
    handler: async ({ params, body }) => {
      const endpoint = await rotateSecret(db, params.id, body.secret ?? generateSecret(), ROTATION_GRACE_MS);
      if (!endpoint) throw notFound('endpoint');
      return { status: 200, body: { secret: endpoint.secret } };
    },
  });

  routes.add({
    method: 'post',
    path: '/endpoints/:id/test',
    tag: 'Endpoints',
    tenant: { access: 'write', scope: 'endpoint', limit: 'test-send' },
    summary: 'Send a signed test event to this endpoint only, through the normal delivery workflow',
    params: IdParams,
    body: TestSend,
    responses: { 202: { description: 'The test event.', schema: z.object({ id: z.string() }) }, 404: { description: 'No such endpoint.' } },
    handler: async ({ params, body }) => {
      const endpoint = await load(params.id);
      const type = body.type ?? 'hookflow.test';
      const payloadJson = JSON.stringify(body.payload ?? { message: 'This is a test event from hookflow.' });
      if (byteLength(payloadJson) > config.maxPayloadBytes) throw payloadTooLarge(config.maxPayloadBytes);
      // Not routed, and not queued on a FIFO endpoint: a test checks the endpoint now, beside its queue.
      const { row } = await insertMessage(db, { id: newId('msg'), tenantId: endpoint.tenant_id, eventType: type, payloadJson, channels: [], routed: true });
      // The workflow first, then the pending row: a start that fails leaves no row that nothing would end,
      // and a run that did start claims (or creates) the row itself, whichever comes first.
      await temporal.workflow.start('deliveryWorkflow', {
        taskQueue: config.temporal.taskQueue,
        workflowId: deliveryWorkflowId(row.id, endpoint.id),
        args: [{ messageId: row.id, endpointId: endpoint.id, tenantId: endpoint.tenant_id, eventType: type }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: deliverySearchAttributes({ tenantId: endpoint.tenant_id, eventType: type, messageId: row.id, endpointId: endpoint.id }),
      });
      await createDeliveries(db, row.id, [endpoint.id]);
      await markWorkflowStarted(db, row.id);
      return { status: 202, body: { id: row.id } };
    },
  });

  routes.add({
    method: 'post',
    path: '/endpoints/:id/recover',
    tag: 'Endpoints',
    tenant: { access: 'write', scope: 'endpoint', limit: 'recovery' },
    summary: 'Redeliver every message whose delivery to this endpoint failed in the window, through a recovery workflow',
    params: IdParams,
    body: Recover,
    responses: { 202: { description: 'How many deliveries the recovery redelivers.', schema: z.object({ count: z.number().int() }) }, 404: { description: 'No such endpoint.' } },
    handler: async ({ params, body }) => {
      const endpoint = await load(params.id);
      const window = { endpointId: endpoint.id, since: new Date(body.since).toISOString(), until: new Date(body.until ?? Date.now()).toISOString() };
      const count = await countFailedDeliveries(db, window);
      if (count > 0) {
        await temporal.workflow.start('recoverWorkflow', {
          taskQueue: config.temporal.taskQueue,
          workflowId: recoverWorkflowId(endpoint.id, randomUUID()),
          args: [window],
          typedSearchAttributes: [{ key: SEARCH_ATTRIBUTES.tenantId, value: endpoint.tenant_id }, { key: SEARCH_ATTRIBUTES.endpointId, value: endpoint.id }],
        });
      }
      return { status: 202, body: { count } };
    },
  });

  queueRoutes(routes, deps, load);
}

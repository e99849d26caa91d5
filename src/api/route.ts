import type { Request, Response, Router } from 'express';
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z, type ZodType } from './zod';
import type { Db } from '../db/pool';
import { principalOf, type Principal } from './auth';
import { ApiError, fromZod } from './errors';
import { stringifyJson } from '../lib/json-text';

import type { PortalWriteLimits } from './portal-limits';
import { checkTenantField, forbidden, tenantOwnership, withOwnTenant, type TenantAccess } from './tenant-scope';

/**
 * One declaration per route gives both the Express handler and its OpenAPI entry, so the document
 * cannot drift from what the server validates.
 */
export type RouteSpec<B extends ZodType, Q extends ZodType, P extends ZodType> = {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  tag: string;
  public?: boolean;
  /** What a portal token may do here (tenant-scope.ts); absent: nothing, 403 forbidden. */
  tenant?: TenantAccess;
  body?: B;
  query?: Q;
  params?: P;
  responses: Record<number, { description: string; schema?: ZodType }>;
  handler: (input: { body: z.infer<B>; query: z.infer<Q>; params: z.infer<P>; principal: Principal; req: Request; res: Response }) => Promise<Reply> | Reply;
};

export type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error');

const STANDARD_ERRORS: Record<number, string> = {
  400: 'The body is not JSON.',
  401: 'Missing or unknown API key, or an expired or revoked portal token.',
  403: 'A portal token asked for something the portal may not do.',
  413: 'The body or payload is too large.',
  415: 'The body is not application/json.',
  422: 'Well-formed JSON with wrong fields; `details` lists each problem.',
  429: 'Too many requests; see Retry-After.',
  503: 'Postgres or Temporal unreachable; nothing was accepted.',
};

/** The OpenAPI extension that says what a portal token may do on an operation: `read`, `write` or `forbidden`. */
export const TENANT_ACCESS_EXTENSION = 'x-hookflow-portal';

export class Routes {
  readonly registry = new OpenAPIRegistry();
  readonly declared: { method: string; path: string }[] = [];
  private readonly owned: ReturnType<typeof tenantOwnership>;

  constructor(
    private readonly publicRouter: Router,
    private readonly privateRouter: Router,
    db: Db,
    private readonly portalLimits: PortalWriteLimits,
  ) {
    this.registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
    this.owned = tenantOwnership(db);
  }

  add<B extends ZodType = ZodType<unknown>, Q extends ZodType = ZodType<unknown>, P extends ZodType = ZodType<unknown>>(spec: RouteSpec<B, Q, P>): void {
    this.declared.push({ method: spec.method, path: spec.path });
    this.registerDoc(spec);
    const router = spec.public ? this.publicRouter : this.privateRouter;
    router[spec.method](spec.path, async (req, res, next) => {
      try {
        const principal = spec.public ? undefined : principalOf(res);
        let rawBody: unknown = req.body;
        let rawQuery: unknown = req.query;
        if (principal?.kind === 'tenant') {
          // A read-only session may use what reads: every GET but the secret's, and POST /filters/test, which changes nothing.
          const allowed = spec.tenant && (!principal.readOnly || spec.tenant.access === 'read');
          if (!allowed) throw forbidden(spec.tenant ? 'This portal session is read-only.' : 'A portal session may not do this.');
        }
        const params = spec.params ? parse(spec.params, req.params, 'params') : undefined;
        if (principal?.kind === 'tenant') {
          // Checked before the body is read, so another tenant's ids are 404 whatever is sent with them.
          checkTenantField(rawQuery, 'query', principal.tenantId);
          checkTenantField(rawBody, 'body', principal.tenantId);
          const scope = spec.tenant!.scope;
          if (scope === 'own-tenant') {
            if (spec.query) rawQuery = withOwnTenant(rawQuery, principal.tenantId);
            if (spec.body) rawBody = withOwnTenant(rawBody, principal.tenantId);
          } else if (scope !== 'shared') {
            await this.owned[scope](String((params as { id?: unknown } | undefined)?.id), principal.tenantId);
          }
        }
        // No body at all is an empty object; a JSON `null` body is a value, and refused like any non-object.
        const body = spec.body ? parse(spec.body, rawBody === undefined ? {} : rawBody, 'body') : undefined;
        const query = spec.query ? parse(spec.query, rawQuery, 'query') : undefined;
        // Counted once the request is known to be valid and the tenant's, and before anything is done.
        if (principal?.kind === 'tenant' && spec.method !== 'get') await this.portalLimits.consume(principal.sessionId, spec.tenant!.limit ?? 'write');
        const reply = await spec.handler({ body, query, params, principal, req, res } as never);
        if (res.headersSent) return;
        if (reply.headers) res.set(reply.headers);
        if (reply.body === undefined) res.status(reply.status).end();
        else res.status(reply.status).type('application/json').send(stringifyJson(reply.body));
      } catch (err) {
        next(err);
      }
    });
  }

  private registerDoc(spec: RouteSpec<ZodType, ZodType, ZodType>): void {
    const errors = spec.public ? {} : Object.fromEntries(
      Object.entries(STANDARD_ERRORS)
        .filter(([status]) => spec.body || !['400', '413', '415'].includes(status))
        .map(([status, description]) => [status, { description, content: { 'application/json': { schema: ErrorBody } } }]),
    );
    this.registry.registerPath({
      method: spec.method,
      path: spec.path.replace(/:(\w+)/g, '{$1}'),
      summary: spec.summary,
      tags: [spec.tag],
      security: spec.public ? [] : [{ bearer: [] }],
      ...(spec.public ? {} : { [TENANT_ACCESS_EXTENSION]: spec.tenant?.access ?? 'forbidden' }),
      request: {
        params: spec.params as never,
        query: spec.query as never,
        body: spec.body ? { content: { 'application/json': { schema: spec.body } } } : undefined,
      },
      responses: {
        ...errors,
        ...Object.fromEntries(
          Object.entries(spec.responses).map(([status, r]) => [
            status,
            { description: r.description, content: r.schema ? { 'application/json': { schema: r.schema } } : undefined },
          ]),
        ),
      },
    });
  }
}

function parse<T extends ZodType>(schema: T, value: unknown, where: 'body' | 'query' | 'params'): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZod(result.error, where);
  return result.data;
}

export function unsupportedMediaType(): ApiError {
  return new ApiError(415, 'unsupported_media_type', 'Send the body as application/json.');
}

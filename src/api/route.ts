import type { Request, Response, Router } from 'express';
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z, type ZodType } from './zod';
import { ApiError, fromZod } from './errors';
import { stringifyJson } from '../json-text';


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
  body?: B;
  query?: Q;
  params?: P;
  responses: Record<number, { description: string; schema?: ZodType }>;
  handler: (input: { body: z.infer<B>; query: z.infer<Q>; params: z.infer<P>; req: Request; res: Response }) => Promise<Reply> | Reply;
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
  401: 'Missing or unknown API key.',
  413: 'The body or payload is too large.',
  415: 'The body is not application/json.',
  422: 'Well-formed JSON with wrong fields; `details` lists each problem.',
  429: 'Too many requests; see Retry-After.',
  503: 'Postgres or Temporal unreachable; nothing was accepted.',
};

export class Routes {
  readonly registry = new OpenAPIRegistry();
  readonly declared: { method: string; path: string }[] = [];

  constructor(
    private readonly publicRouter: Router,
    private readonly privateRouter: Router,
  ) {
    this.registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  }

  add<B extends ZodType = ZodType<unknown>, Q extends ZodType = ZodType<unknown>, P extends ZodType = ZodType<unknown>>(spec: RouteSpec<B, Q, P>): void {
    this.declared.push({ method: spec.method, path: spec.path });
    this.registerDoc(spec);
    const router = spec.public ? this.publicRouter : this.privateRouter;
    router[spec.method](spec.path, async (req, res, next) => {
      try {
        // No body at all is an empty object; a JSON `null` body is a value, and refused like any non-object.
        const body = spec.body ? parse(spec.body, req.body === undefined ? {} : req.body, 'body') : undefined;
        const query = spec.query ? parse(spec.query, req.query, 'query') : undefined;
        const params = spec.params ? parse(spec.params, req.params, 'params') : undefined;
        const reply = await spec.handler({ body, query, params, req, res } as never);
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

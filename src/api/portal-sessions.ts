import { randomUUID } from 'node:crypto';
import { z } from './zod';
import { insertPortalSession, revokePortalSession } from '../db/portal-sessions';
import { parseDuration } from '../lib/duration';
import type { ApiDeps } from './deps';
import { newPortalToken, portalTokenHash } from './auth';
import { TenantId, Text, Timestamp } from './common';
import { notFound } from './errors';
import type { Routes } from './route';

const DEFAULT_EXPIRY_MS = 3_600_000;
const MAX_EXPIRY_MS = 7 * 86_400_000;

const ExpiresIn = z
  .string()
  .refine((text) => {
    const ms = parseDuration(text);
    return ms !== undefined && ms >= 1_000 && ms <= MAX_EXPIRY_MS;
  }, 'must be a duration from 1s to 7d, such as 15m, 1h or 7d')
  .openapi({ example: '1h' });

const HttpsUrl = Text.max(2048).refine((text) => {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' && url.hostname !== '' && !url.username && !url.password;
  } catch {
    return false;
  }
}, 'must be an absolute https URL without credentials');

const Theme = z
  .object({
    name: Text.min(1).max(100).optional().openapi({ description: "The platform's name, shown in the portal's header." }),
    primaryColor: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour as #rrggbb').optional(),
    logoUrl: HttpsUrl.optional(),
  })
  .strict()
  .openapi('PortalTheme');

const SessionCreate = z
  .object({
    tenantId: TenantId,
    expiresIn: ExpiresIn.optional().openapi({ description: 'Default 1h, at most 7d.' }),
    readOnly: z.boolean().optional().openapi({ description: 'Only GET, and not the signing secret.' }),
    theme: Theme.optional(),
  })
  .strict();

const Session = z
  .object({
    token: z.string().openapi({ description: 'hfp_…: a bearer key for this tenant; shown once, stored hashed.' }),
    url: z.string().openapi({ description: 'PUBLIC_URL/portal#token=…: the token rides in the fragment, which browsers never send.' }),
    expiresAt: Timestamp,
  })
  .openapi('PortalSession');

const Me = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('operator') }),
    z.object({ kind: z.literal('tenant'), tenantId: z.string(), readOnly: z.boolean(), expiresAt: Timestamp, theme: Theme.nullable() }),
  ])
  .openapi('Me');

/** The customer portal's sessions (operator keys only) and `GET /me`, which tells the page who it is. */
export function portalSessionRoutes(routes: Routes, { db, config }: ApiDeps): void {
  routes.add({
    method: 'post',
    path: '/portal/sessions',
    tag: 'Customer portal',
    summary: "Open a portal session for one tenant: a token and the page's URL to send the customer to",
    body: SessionCreate,
    responses: { 201: { description: 'The session; its token is never shown again.', schema: Session } },
    handler: async ({ body, req }) => {
      const token = newPortalToken();
      const session = await insertPortalSession(db, {
        id: `ps_${randomUUID()}`,
        tokenHash: portalTokenHash(token),
        tenantId: body.tenantId,
        readOnly: body.readOnly ?? false,
        theme: body.theme ?? null,
        expiresInMs: body.expiresIn === undefined ? DEFAULT_EXPIRY_MS : parseDuration(body.expiresIn)!,
      });
      // Unset PUBLIC_URL: the port this server really listens on (PORT=0 picks one).
      const publicUrl = config.portal.publicUrl ?? `http://127.0.0.1:${req.socket.localPort}`;
      return { status: 201, body: { token, url: `${publicUrl}/portal#token=${token}`, expiresAt: session.expires_at.toISOString() } };
    },
  });

  routes.add({
    method: 'delete',
    path: '/portal/sessions/:token',
    tag: 'Customer portal',
    summary: 'Revoke a portal session at once (its token answers 401 from the next request on)',
    params: z.object({ token: z.string().min(1).max(256) }),
    responses: { 204: { description: 'Revoked.' }, 404: { description: 'No session has this token.' } },
    handler: async ({ params }) => {
      if (!(await revokePortalSession(db, portalTokenHash(params.token)))) throw notFound('portal session');
      return { status: 204 };
    },
  });

  routes.add({
    method: 'get',
    path: '/me',
    tag: 'Customer portal',
    summary: 'Who the bearer key is: an operator, or a portal session with its tenant, expiry and theme',
    tenant: { access: 'read', scope: 'shared' },
    responses: { 200: { description: 'The caller.', schema: Me } },
    handler: ({ principal }) => ({
      status: 200,
      body: principal.kind === 'operator'
        ? { kind: 'operator' }
        : { kind: 'tenant', tenantId: principal.tenantId, readOnly: principal.readOnly, expiresAt: principal.expiresAt.toISOString(), theme: principal.theme },
    }),
  });
}

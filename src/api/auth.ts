import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { activePortalSession, type PortalTheme } from '../db/portal-sessions';
import type { Db } from '../db/pool';
import { ApiError } from './errors';

/**
 * Who is asking, resolved once per request: an operator (a key from API_KEYS, which may do everything)
 * or one tenant through a portal session. What each may do on a route is decided in route.ts from the
 * route's own declaration, never in the handlers.
 */
export type Principal =
  | { kind: 'operator'; keyIndex: number }
  | { kind: 'tenant'; tenantId: string; readOnly: boolean; sessionId: string; expiresAt: Date; theme: PortalTheme | null };

/** Portal tokens: a fixed prefix, so they can be told from operator keys, then 32 random bytes. */
export const PORTAL_TOKEN_PREFIX = 'hfp_';
const PORTAL_TOKEN = /^hfp_[A-Za-z0-9_-]{43}$/;

export function newPortalToken(): string {
  return `${PORTAL_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** What is stored of a portal token: its SHA-256, enough to recognise it and useless to present. */
export function portalTokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Error('no principal: the route was reached without authentication');
  return principal;
}

/**
 * The bearer token of a request and which operator key it is (its index in API_KEYS, else -1). Every key
 * is compared, in constant time, against the token's hash: neither the key's length nor the position of
 * the first wrong byte shows in the timing. Public routes that say more to an operator use it too.
 */
export function operatorKeyOf(keys: string[]): (req: Request) => { given: string; digest: Buffer; keyIndex: number } {
  const keyOf = bearerKeyOf(keys);
  return (req) => keyOf(req.get('authorization'));
}

/** The same, from the value of an Authorization header. */
function bearerKeyOf(keys: string[]): (authorization: string | undefined) => { given: string; digest: Buffer; keyIndex: number } {
  const digests = keys.map((key) => createHash('sha256').update(key).digest());
  return (authorization) => {
    const match = /^Bearer (.+)$/i.exec(authorization ?? '');
    const given = match?.[1]?.trim() ?? '';
    const digest = createHash('sha256').update(given).digest();
    let keyIndex = -1;
    digests.forEach((candidate, index) => {
      if (timingSafeEqual(candidate, digest)) keyIndex = index;
    });
    return { given, digest, keyIndex: match ? keyIndex : -1 };
  };
}

const UNAUTHORIZED = 'Send a valid API key or an unexpired portal token as "Authorization: Bearer <key>".';

/**
 * An operator key (compared in constant time, operatorKeyOf), else a portal token, looked up by its hash,
 * so expiry and revocation count from the next request on.
 */
export function authenticate(keys: string[], db: Db): RequestHandler {
  const identify = identifier(keys, db);
  return (req, res, next) => {
    identify(req.get('authorization')).then((principal) => {
      res.locals.principal = principal;
      next();
    }, next);
  };
}

/**
 * Who an Authorization header names, or a 401 ApiError. Also used where no Express route runs: the relay's
 * WebSocket (src/relay/hub.ts) is authenticated, and a portal session's connection re-checked, with it.
 */
export function identifier(keys: string[], db: Db): (authorization: string | undefined) => Promise<Principal> {
  const keyOf = bearerKeyOf(keys);
  return async (authorization) => {
    const { given, digest, keyIndex } = keyOf(authorization);
    if (keyIndex >= 0) return { kind: 'operator', keyIndex };
    if (!PORTAL_TOKEN.test(given)) throw new ApiError(401, 'unauthorized', UNAUTHORIZED);
    const session = await activePortalSession(db, digest);
    if (!session) throw new ApiError(401, 'unauthorized', 'The portal session has expired or was revoked; open the portal again from your platform.');
    return { kind: 'tenant', tenantId: session.tenant_id, readOnly: session.read_only, sessionId: session.id, expiresAt: session.expires_at, theme: session.theme };
  };
}

import type { Db } from '../db/pool';
import { ApiError } from './errors';
import type { PortalWrite } from './portal-limits';

/**
 * What a portal token (one tenant) may do on a route, declared by the route itself (RouteSpec.tenant);
 * a route that declares nothing is forbidden to tenants.
 * - access `read`: any portal token; `write`: only one that is not read-only.
 * - scope: how the route is kept to the token's tenant, checked before the handler runs:
 *   `endpoint` / `event` / `attempt`: the `:id` in the path must be one of the tenant's, else 404;
 *   `own-tenant`: the tenantId of the query or body is set to the token's tenant (lists, creation);
 *   `shared`: the route shows nothing that belongs to a tenant (the event-type catalog, GET /me).
 */
export type TenantScope = 'endpoint' | 'event' | 'attempt' | 'own-tenant' | 'shared';
/** `limit`: which of the session's write limits the route counts against (portal-limits.ts); other writes count as `write`. */
export type TenantAccess = { access: 'read' | 'write'; scope: TenantScope; limit?: Exclude<PortalWrite, 'write'> };

export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);

/** Another tenant's resource is answered exactly as a missing one, so ids of other tenants cannot be probed. */
const NOT_FOUND: Record<'endpoint' | 'event' | 'attempt', string> = { endpoint: 'endpoint', event: 'event', attempt: 'attempt' };

/** One query per resource kind: does this id belong to this tenant? */
export function tenantOwnership(db: Db): Record<'endpoint' | 'event' | 'attempt', (id: string, tenantId: string) => Promise<void>> {
  const owned = (kind: 'endpoint' | 'event' | 'attempt', sql: string) => async (id: string, tenantId: string) => {
    const { rowCount } = await db.query(sql, [id, tenantId]);
    if ((rowCount ?? 0) === 0) throw new ApiError(404, 'not_found', `No ${NOT_FOUND[kind]} with that id.`);
  };
  return {
    endpoint: owned('endpoint', 'SELECT 1 FROM endpoints WHERE id = $1 AND tenant_id = $2'),
    event: owned('event', 'SELECT 1 FROM messages WHERE id = $1 AND tenant_id = $2'),
    // An attempt belongs to the tenant of its message (attempts outlive a deleted endpoint).
    attempt: owned('attempt', 'SELECT 1 FROM attempts a JOIN messages m ON m.id = a.message_id WHERE a.id = $1 AND m.tenant_id = $2'),
  };
}

/**
 * A `tenantId` a portal token sends in the query or body must be its own: any other is answered as if no
 * such tenant existed (the contract's 404).
 */
export function checkTenantField(value: unknown, where: 'query' | 'body', tenantId: string): void {
  if (value === null || typeof value !== 'object' || !('tenantId' in value)) return;
  if (value.tenantId !== tenantId) {
    throw new ApiError(404, 'not_found', `No such tenant: the ${where}'s tenantId must be the portal session's own.`);
  }
}

/** The query or body with the token's tenant filled in, for `own-tenant` routes. */
export function withOwnTenant(value: unknown, tenantId: string): unknown {
  if (value === undefined) return { tenantId };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return { ...value, tenantId };
}

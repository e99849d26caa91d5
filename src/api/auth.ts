import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from './errors';

/**
 * Bearer keys compared in constant time: each key is hashed first, so neither the key's length nor
 * the position of the first wrong byte shows in the timing.
 */
export function requireApiKey(keys: string[]): RequestHandler {
  const digests = keys.map((key) => createHash('sha256').update(key).digest());
  return (req, _res, next) => {
    const match = /^Bearer (.+)$/i.exec(req.get('authorization') ?? '');
    const given = createHash('sha256').update(match?.[1]?.trim() ?? '').digest();
    let ok = false;
    for (const digest of digests) ok = timingSafeEqual(digest, given) || ok;
    next(ok && match ? undefined : new ApiError(401, 'unauthorized', 'Send a valid API key as "Authorization: Bearer <key>".'));
  };
}

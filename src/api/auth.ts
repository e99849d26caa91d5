import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from './errors';

/**
 * Bearer keys compared in constant time: each key is hashed first, so neither the key's length nor
 * the position of the first wrong byte shows in the timing.
 */
export function requireApiKey(keys: string[]): RequestHandler {
  const digests = keys.map((key) => createHash('sha256').update(key).digest());
  return (req, res, next) => {
    const match = /^Bearer (.+)$/i.exec(req.get('authorization') ?? '');
    const given = createHash('sha256').update(match?.[1]?.trim() ?? '').digest();
    let matched = -1;
    digests.forEach((digest, index) => {
      if (timingSafeEqual(digest, given)) matched = index;
    });
    if (matched < 0 || !match) return next(new ApiError(401, 'unauthorized', 'Send a valid API key as "Authorization: Bearer <key>".'));
    // Which key, by position: what per-key limits count by, never the key itself.
    res.locals.apiKeyIndex = matched;
    next();
  };
}

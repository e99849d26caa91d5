import { randomBytes } from 'node:crypto';

/**
 * Server-made ids (`msg_…`, `ep_…`, `atm_…`): a millisecond timestamp then 80 random bits, in
 * Crockford base32, so ids sort by creation time and never collide in practice.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newId(prefix: 'msg' | 'ep' | 'atm'): string {
  let time = Date.now();
  let head = '';
  for (let i = 0; i < 10; i += 1) {
    head = ALPHABET[time % 32] + head;
    time = Math.floor(time / 32);
  }
  const random = randomBytes(16);
  let tail = '';
  for (let i = 0; i < 16; i += 1) tail += ALPHABET[random[i]! % 32];
  return `${prefix}_${head}${tail}`;
}

export const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const EVENT_TYPE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const MESSAGE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

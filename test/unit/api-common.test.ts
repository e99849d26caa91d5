import { describe, it, expect } from 'vitest';
import { jsonDepth, MAX_JSON_DEPTH } from '../../src/api/common';
import { decodeCursor, encodeCursor, page } from '../../src/db/cursor';
import { EVENT_TYPE, MESSAGE_ID, newId, TENANT_ID } from '../../src/lib/ids';

describe('jsonDepth', () => {
  it.each([
    [42, 0],
    [null, 0],
    [{}, 1],
    [{ a: 1, b: 'x' }, 1],
    [{ a: { b: { c: 1 } } }, 3],
    [[1, 2, 3], 1],
    [{ a: [{ b: [] }] }, 4],
  ])('%j has depth %i', (value, depth) => {
    expect(jsonDepth(value)).toBe(depth);
  });

  it('handles a 20,000-deep array without overflowing the stack', () => {
    let value: unknown[] = [];
    for (let i = 0; i < 20_000; i += 1) value = [value];
    let depth = 0;
    expect(() => (depth = jsonDepth(value))).not.toThrow();
    expect(depth).toBeGreaterThan(MAX_JSON_DEPTH);
  });
});

describe('cursors', () => {
  it.each(['0', '1', '9223372036854775807'])('round-trips seq %s', (seq) => {
    const cursor = encodeCursor(seq);
    expect(cursor).not.toContain(seq);
    expect(decodeCursor(cursor)).toBe(seq);
  });

  it.each([
    'garbage!!',
    's:abc',
    Buffer.from('s:abc').toString('base64url'),
    Buffer.from("s:1' OR 1=1 --").toString('base64url'),
    Buffer.from('s:1; DROP TABLE messages').toString('base64url'),
    '',
  ])('refuses %j', (cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });

  const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ seq: String(i + 1) }));

  it.each([
    [0, 3],
    [2, 3],
    [3, 3],
  ])('page of %i rows with limit %i has no next cursor', (n, limit) => {
    expect(page(rows(n), limit)).toEqual({ rows: rows(n), nextCursor: null });
  });

  it('page with one row past the limit keeps limit rows and points after the last', () => {
    const result = page(rows(4), 3);
    expect(result.rows).toEqual(rows(3));
    expect(decodeCursor(result.nextCursor!)).toBe('3');
  });
});

describe('ids', () => {
  it('newId makes a prefixed ULID-like id', () => {
    expect(newId('msg')).toMatch(/^msg_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(newId('ep')).toMatch(/^ep_[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('ids made in successive milliseconds sort in creation order', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const start = Date.now();
      while (Date.now() === start) await new Promise((resolve) => setTimeout(resolve, 1));
      ids.push(newId('msg'));
    }
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(5);
  });

  it.each([
    [TENANT_ID, 'acme_corp-1', true],
    [TENANT_ID, 'a'.repeat(64), true],
    [TENANT_ID, 'a'.repeat(65), false],
    [TENANT_ID, '', false],
    [TENANT_ID, 'acme.corp', false],
    [TENANT_ID, 'acme corp', false],
    [EVENT_TYPE, 'invoice.paid', true],
    [EVENT_TYPE, 'user:created_v2-x', true],
    [EVENT_TYPE, 'a'.repeat(128), true],
    [EVENT_TYPE, 'a'.repeat(129), false],
    [EVENT_TYPE, '.invoice', false],
    [EVENT_TYPE, 'invoice paid', false],
    [MESSAGE_ID, 'order:123.v1_a-b', true],
    [MESSAGE_ID, '.leading-dot-ok', true],
    [MESSAGE_ID, 'a'.repeat(128), true],
    [MESSAGE_ID, 'a'.repeat(129), false],
    [MESSAGE_ID, '', false],
    [MESSAGE_ID, 'id/with/slash', false],
  ])('%s on %j → %s', (regex, text, ok) => {
    expect(regex.test(text)).toBe(ok);
  });
});

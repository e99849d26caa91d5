import { describe, expect, it } from 'vitest';
import { RELAY_BODY_LIMIT, parseFromListen } from '../../src/relay/protocol';
import { retryDelayMs } from '../../packages/client/src/retry';
import { portalTarget } from '../../src/cli/client';

describe('relay protocol: frames from listen', () => {
  it('takes a response and an error, the body cut to RELAY_BODY_LIMIT', () => {
    expect(parseFromListen(JSON.stringify({ type: 'response', id: 'r1', status: 204, headers: { 'x-a': 'b' }, body: 'x'.repeat(RELAY_BODY_LIMIT + 10) }))).toEqual({
      type: 'response', id: 'r1', status: 204, headers: { 'x-a': 'b' }, body: 'x'.repeat(RELAY_BODY_LIMIT),
    });
    expect(parseFromListen(JSON.stringify({ type: 'error', id: 'r2', code: 'ECONNREFUSED', message: 'refused' }))).toEqual({ type: 'error', id: 'r2', code: 'ECONNREFUSED', message: 'refused' });
  });

  it.each([
    ['not JSON', '{'],
    ['no id', JSON.stringify({ type: 'response', status: 200, headers: {}, body: '' })],
    ['a status that is no HTTP status', JSON.stringify({ type: 'response', id: 'r', status: 42, headers: {}, body: '' })],
    ['headers that are not strings', JSON.stringify({ type: 'response', id: 'r', status: 200, headers: { a: 1 }, body: '' })],
    ['an unknown type', JSON.stringify({ type: 'request', id: 'r' })],
    ['null', 'null'],
  ])('ignores %s', (_what, text) => {
    expect(parseFromListen(text)).toBeUndefined();
  });
});

describe('@hookflow/client retry delay', () => {
  const NOW = Date.parse('2030-01-01T00:00:00Z');
  it.each([
    ['3', 0, 3_000],
    [new Date(NOW + 2_000).toUTCString(), 0, 2_000],
    [null, 0, 500],
    [null, 2, 2_000],
    ['soon', 1, 1_000],
  ])('Retry-After %j, retry %i → %i ms', (header, attempt, ms) => {
    expect(retryDelayMs(header, attempt, NOW)).toBe(ms);
  });
});

describe('hookflow listen --portal', () => {
  it("takes the API from the session url, and the token from its fragment", () => {
    expect(portalTarget('https://hooks.example.com/portal#token=hfp_abc')).toEqual({ url: 'https://hooks.example.com', key: 'hfp_abc' });
    expect(portalTarget('https://example.com/hooks/portal#token=hfp_abc')).toEqual({ url: 'https://example.com/hooks', key: 'hfp_abc' });
  });
  it('refuses a url without a token', () => {
    expect(() => portalTarget('https://hooks.example.com/portal')).toThrow(/--portal/);
  });
});

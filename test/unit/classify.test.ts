import { describe, it, expect } from 'vitest';
import { BLOCKED_ADDRESS_CODE, RELAY_NOT_CONNECTED_CODE, classify, parseRetryAfter } from '../../src/webhooks/classify';

const NOW = Date.parse('2024-03-01T12:00:00Z');
const response = (statusCode: number, headers: Record<string, string> = {}) => ({ statusCode, headers });

describe('classify: HTTP status', () => {
  it.each([200, 204, 299])('%i is success', (status) => {
    expect(classify(response(status), NOW)).toEqual({ outcome: 'success' });
  });

  it.each([301, 302, 304])('%i is a retried HttpError mentioning redirects', (status) => {
    const verdict = classify(response(status), NOW);
    expect(verdict).toMatchObject({ outcome: 'retry', failureType: 'HttpError' });
    expect(verdict).toHaveProperty('reason', expect.stringMatching(/redirect/));
  });

  it.each([400, 404, 500])('%i is a retried HttpError', (status) => {
    expect(classify(response(status), NOW)).toEqual({ outcome: 'retry', failureType: 'HttpError', reason: `HTTP ${status}` });
  });

  it('410 is gone', () => {
    expect(classify(response(410), NOW)).toMatchObject({ outcome: 'gone' });
  });

  it.each([
    ['429 with Retry-After: 7', 429, { 'retry-after': '7' }, 7_000],
    ['503 with an HTTP-date 30 s ahead', 503, { 'retry-after': new Date(NOW + 30_000).toUTCString() }, 30_000],
    ['429 without Retry-After', 429, {}, undefined],
    ['500 with Retry-After (not honoured)', 500, { 'retry-after': '7' }, undefined],
  ])('%s', (_label, status, headers, retryAfterMs) => {
    const verdict = classify(response(status, headers), NOW);
    expect(verdict).toMatchObject({ outcome: 'retry', failureType: 'HttpError' });
    expect((verdict as { retryAfterMs?: number }).retryAfterMs).toBe(retryAfterMs);
  });
});

describe('classify: errors', () => {
  it.each([
    [{ code: 'ECONNREFUSED' }, 'ConnectionError'],
    [{ code: 'ECONNRESET' }, 'ConnectionError'],
    [{ code: 'ENOTFOUND' }, 'DnsError'],
    [{ code: 'EAI_AGAIN' }, 'DnsError'],
    [{ code: 'UND_ERR_HEADERS_TIMEOUT' }, 'Timeout'],
    [{ name: 'TimeoutError' }, 'Timeout'],
    [{ code: BLOCKED_ADDRESS_CODE }, 'BlockedAddress'],
    [{ code: 'EWHATEVER' }, 'NetworkError'],
    [{}, 'NetworkError'],
  ])('%j → %s', (fields, failureType) => {
    const verdict = classify({ error: { ...fields, message: 'boom' } }, NOW);
    expect(verdict).toMatchObject({ outcome: 'retry', failureType });
    expect(verdict).toHaveProperty('reason', expect.stringContaining('boom'));
  });
});

describe('classify: a relay endpoint without `hookflow listen`', () => {
  it('is a retried failure whose reason is the contract\'s "relay not connected"', () => {
    expect(classify({ error: { code: RELAY_NOT_CONNECTED_CODE, message: 'relay not connected' } }, NOW)).toEqual({
      outcome: 'retry', failureType: 'RelayNotConnected', reason: 'relay not connected',
    });
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['7', 7_000],
    [' 120 ', 120_000],
    [new Date(NOW + 5_000).toUTCString(), 5_000],
    [new Date(NOW - 60_000).toUTCString(), 0],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j → %s', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});

import { describe, expect, it } from 'vitest';
import { portalCsp } from '../../src/api/portal-page';
import { bucketSeries } from '../../src/api/endpoint-stats';
import { loggableUrl } from '../../src/api/request-log';
import { ConfigError, loadConfig } from '../../src/config';
import { decodeIdCursor, decodeCursor, encodeIdCursor } from '../../src/db/cursor';

const TOKEN = `hfp_${'A1b2_-'.repeat(7)}x`;

describe('loggableUrl', () => {
  it.each([
    [`/portal/sessions/${TOKEN}`, '/portal/sessions/[redacted]'],
    [`/portal/sessions/${TOKEN}?x=1`, '/portal/sessions/[redacted]?x=1'],
    ['/portal/sessions/not-even-a-token', '/portal/sessions/[redacted]'],
    [`/PORTAL/Sessions/${TOKEN}`, '/PORTAL/Sessions/[redacted]'],
    [`/events?cursor=${TOKEN}&limit=2`, '/events?cursor=hfp_[redacted]&limit=2'],
    ['/endpoints/ep_1/attempts?limit=2', '/endpoints/ep_1/attempts?limit=2'],
    ['/portal/sessions', '/portal/sessions'],
  ])('%s → %s', (url, logged) => {
    expect(loggableUrl(url)).toBe(logged);
  });
});

describe('portal configuration', () => {
  it('defaults: no PUBLIC_URL (the listening address is used), frame-ancestors \'self\'', () => {
    expect(loadConfig({}).portal).toMatchObject({ publicUrl: undefined, frameAncestors: "'self'" });
  });

  it.each([
    ['https://hooks.example.com', 'https://hooks.example.com'],
    ['https://hooks.example.com/', 'https://hooks.example.com'],
    ['http://10.0.0.5:8080/hookflow/', 'http://10.0.0.5:8080/hookflow'],
  ])('PUBLIC_URL=%s is %s', (value, expected) => {
    expect(loadConfig({ PUBLIC_URL: value }).portal.publicUrl).toBe(expected);
  });

  it.each(['hooks.example.com', 'ftp://hooks.example.com', 'https://u:p@hooks.example.com', 'https://hooks.example.com/?a=1', 'https://hooks.example.com/#x'])(
    'PUBLIC_URL=%s stops start-up with a sentence naming it',
    (value) => {
      expect(() => loadConfig({ PUBLIC_URL: value })).toThrow(ConfigError);
      expect(() => loadConfig({ PUBLIC_URL: value })).toThrow(/PUBLIC_URL must be/);
    },
  );

  it.each([
    ["'self'", "'self'"],
    ["'none'", "'none'"],
    ["  'self'   https://app.example.com  https://*.example.org:8443 ", "'self' https://app.example.com https://*.example.org:8443"],
    ['https:', 'https:'],
    ['app.example.com/embed/', 'app.example.com/embed/'],
  ])('PORTAL_FRAME_ANCESTORS=%s', (value, expected) => {
    expect(loadConfig({ PORTAL_FRAME_ANCESTORS: value }).portal.frameAncestors).toBe(expected);
  });

  it.each([
    "'self'; script-src *",
    "'self',https://a.example.com",
    "'none' 'self'",
    "'unsafe-inline'",
    'https://a.example.com\r\nx-evil: 1',
    'self',
  ])('PORTAL_FRAME_ANCESTORS=%j stops start-up', (value) => {
    expect(() => loadConfig({ PORTAL_FRAME_ANCESTORS: value })).toThrow(/PORTAL_FRAME_ANCESTORS must be/);
  });

  it('the CSP carries the frame ancestors last', () => {
    expect(portalCsp("'self' https://app.example.com")).toMatch(/; frame-ancestors 'self' https:\/\/app\.example\.com$/);
    expect(portalCsp("'self'")).not.toMatch(/unsafe/);
  });
});

describe('bucketSeries', () => {
  const now = Date.parse('2026-12-03T10:17:00Z');

  it('24 hourly buckets ending with the current hour, empty ones included', () => {
    const series = bucketSeries('24h', [{ start: new Date('2026-12-03T08:00:00Z'), succeeded: 3, failed: 1 }], now);
    expect(series).toHaveLength(24);
    expect(series[0]!.start.toISOString()).toBe('2026-12-02T11:00:00.000Z');
    expect(series[23]!.start.toISOString()).toBe('2026-12-03T10:00:00.000Z');
    expect(series[21]).toEqual({ start: new Date('2026-12-03T08:00:00Z'), succeeded: 3, failed: 1 });
    expect(series.filter((b) => b.succeeded + b.failed > 0)).toHaveLength(1);
  });

  it('28 six-hour buckets aligned to 00, 06, 12 and 18 UTC', () => {
    const series = bucketSeries('7d', [], now);
    expect(series).toHaveLength(28);
    expect(series[27]!.start.toISOString()).toBe('2026-12-03T06:00:00.000Z');
    expect(series[0]!.start.toISOString()).toBe('2026-11-26T12:00:00.000Z');
  });
});

describe('delivery cursors', () => {
  it('round-trip an endpoint id and are not seq cursors', () => {
    const cursor = encodeIdCursor('ep_01ABC');
    expect(decodeIdCursor(cursor)).toBe('ep_01ABC');
    expect(decodeCursor(cursor)).toBeUndefined();
    expect(decodeIdCursor(Buffer.from('s:12').toString('base64url'))).toBeUndefined();
    expect(decodeIdCursor('%%%')).toBeUndefined();
  });
});

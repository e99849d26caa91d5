import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { capturedLogs } from '../support/log-capture';
import {
  MASK, SensitiveValue, guardHeaders, isSensitiveHeader, maskHeaders, reservedHeader, revealHeaders, splitHeaders,
} from '../../src/webhooks/endpoint-headers';

describe('isSensitiveHeader: the contract\'s rule for credentials', () => {
  it.each([
    'authorization', 'Authorization', 'PROXY-AUTHORIZATION', 'Cookie', 'x-api-key', 'X-Api-Key', 'api_key', 'x-auth-token', 'X-Access-Token',
    'x-client-secret', 'x-password', 'X-Hub-Secret', 'x-authentication', 'Idempotency-Key', 'keyid', 'x-oauth',
  ])('%s is sensitive', (name) => {
    expect(isSensitiveHeader(name)).toBe(true);
  });

  it.each(['x-team', 'X-Acme-Env', 'accept', 'x-request-id', 'x-tenant', 'keep-alive'])('%s is not', (name) => {
    expect(isSensitiveHeader(name)).toBe(false);
  });

  it('cookie counts as the exact name only: it is not one of the words a name may contain', () => {
    expect(isSensitiveHeader('cookie')).toBe(true);
    expect(isSensitiveHeader('x-cookie-consent')).toBe(false);
  });
});

describe('reservedHeader: what an endpoint may not set', () => {
  it.each(['host', 'Host', 'content-length', 'Content-Type', 'user-agent', 'webhook-id', 'Webhook-Signature', 'webhook-anything', 'Transfer-Encoding', 'expect'])(
    '%s is refused with a reason',
    (name) => {
      expect(reservedHeader(name)).toEqual(expect.any(String));
    },
  );

  it.each(['x-webhook-id', 'authorization', 'accept', 'x-host'])('%s may be set', (name) => {
    expect(reservedHeader(name)).toBeUndefined();
  });
});

describe('sensitive values', () => {
  const headers = guardHeaders({ Authorization: 'Bearer sk_live_1', 'x-team': 'data', 'X-Api-Key': 'k-123' });

  it('wraps credentials by name and reveals them only on purpose', () => {
    expect(headers.Authorization).toBeInstanceOf(SensitiveValue);
    expect(headers['x-team']).toBe('data');
    expect(revealHeaders(headers)).toEqual({ Authorization: 'Bearer sk_live_1', 'x-team': 'data', 'X-Api-Key': 'k-123' });
  });

  it('shows the mask wherever they are serialised, inspected or made a string', () => {
    expect(maskHeaders(headers)).toEqual({ Authorization: MASK, 'x-team': 'data', 'X-Api-Key': MASK });
    expect(JSON.stringify({ headers })).not.toMatch(/sk_live_1|k-123/);
    expect(inspect({ headers }, { depth: 5 })).not.toMatch(/sk_live_1|k-123/);
    expect(String(headers.Authorization)).toBe(MASK);
  });

  it('never reach a log line, even logged whole', () => {
    const logs = capturedLogs('info');
    logs.log.info({ endpoint: { headers } }, 'careless');
    expect(logs.text()).toContain('careless');
    expect(logs.text()).not.toMatch(/sk_live_1|k-123/);
  });

  it('masks a plain string under a sensitive name too (an attempt recorded before masking)', () => {
    expect(maskHeaders({ cookie: 'session=1', accept: '*/*' })).toEqual({ cookie: MASK, accept: '*/*' });
  });

  it('are stored apart from the other headers, a header named __proto__ included', () => {
    const given = JSON.parse('{"Authorization":"Bearer x","x-team":"data","__proto__":"p"}') as Record<string, string>;
    const { plain, sensitive } = splitHeaders(given);
    expect(sensitive).toEqual({ Authorization: 'Bearer x' });
    expect(Object.keys(plain).sort()).toEqual(['__proto__', 'x-team']);
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
  });
});

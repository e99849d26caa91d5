import { createHmac, randomBytes } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { generateSecret, isValidSecret, sign, signatureHeader } from '../../src/webhooks/signing';

const secretOf = (bytes: number) => `whsec_${randomBytes(bytes).toString('base64')}`;

describe('sign', () => {
  it('matches an HMAC computed independently', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const [id, ts, body] = ['msg_abc', 1_700_000_000, '{"hello":"world"}'];
    const expected = createHmac('sha256', Buffer.alloc(32, 7)).update(`${id}.${ts}.${body}`).digest('base64');
    expect(sign(secret, id, ts, body)).toBe(`v1,${expected}`);
  });

  it("reproduces the Standard Webhooks spec's published example", () => {
    // Checked with createHmac before relying on it.
    expect(sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('refuses an invalid secret', () => {
    expect(() => sign('not-a-secret', 'msg_1', 1, '{}')).toThrow();
  });
});

describe.each([
  ['standardwebhooks', (secret: string) => new StandardWebhook(secret)],
  ['svix', (secret: string) => new SvixWebhook(secret)],
])('verified by the %s package', (_name, verifier) => {
  const id = 'msg_2Z0Q8Y4JH7K1M3N5P6R8S9T0VW';
  const body = '{"type":"invoice.paid","data":{"amount":1200}}';
  const headers = (signature: string, ts: number) => ({
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signature,
  });
  const now = () => Math.floor(Date.now() / 1000);

  it('accepts our signature', () => {
    const secret = generateSecret();
    const ts = now();
    expect(() => verifier(secret).verify(body, headers(sign(secret, id, ts, body), ts))).not.toThrow();
  });

  it('accepts a rotation header when it holds only the old secret', () => {
    const [fresh, old] = [generateSecret(), generateSecret()];
    const ts = now();
    const header = signatureHeader([fresh, old], id, ts, body);
    expect(header.split(' ')).toEqual([sign(fresh, id, ts, body), sign(old, id, ts, body)]);
    expect(() => verifier(old).verify(body, headers(header, ts))).not.toThrow();
    expect(() => verifier(fresh).verify(body, headers(header, ts))).not.toThrow();
  });

  it('rejects a tampered body', () => {
    const secret = generateSecret();
    const ts = now();
    const signature = sign(secret, id, ts, body);
    expect(() => verifier(secret).verify(body.replace('1200', '9999'), headers(signature, ts))).toThrow();
  });

  it('rejects a signature made with another secret', () => {
    const ts = now();
    expect(() => verifier(generateSecret()).verify(body, headers(sign(generateSecret(), id, ts, body), ts))).toThrow();
  });
});

describe('isValidSecret', () => {
  it('accepts generateSecret() output', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_/);
    expect(isValidSecret(secret)).toBe(true);
  });

  it.each([
    ['23 bytes', secretOf(23), false],
    ['24 bytes', secretOf(24), true],
    ['64 bytes', secretOf(64), true],
    ['65 bytes', secretOf(65), false],
    ['non-base64', 'whsec_not*base64!at-all-but-long-enough-to-pass', false],
    ['missing prefix', randomBytes(32).toString('base64'), false],
  ])('%s → %s', (_label, secret, valid) => {
    expect(isValidSecret(secret)).toBe(valid);
  });
});

import { describe, expect, it } from 'vitest';
import { examplePayload } from '../../src/portal/sample';
import { takeTokenFromFragment } from '../../src/portal/session';
import { brandStyle } from '../../src/portal/theme';

/** The customer portal's pure pieces: the token's way in, the brand colour, example payloads. */
function fakeBrowser(hash: string) {
  const calls: string[] = [];
  return {
    location: { hash, pathname: '/portal', search: '' },
    history: { state: null, replaceState: (_s: unknown, _u: string, url: string) => calls.push(url) },
    calls,
  };
}

describe('takeTokenFromFragment', () => {
  it('takes an hfp_ token from the fragment and removes the fragment from the address bar', () => {
    const b = fakeBrowser('#token=hfp_abc-DEF_123');
    expect(takeTokenFromFragment(b.location, b.history)).toBe('hfp_abc-DEF_123');
    expect(b.calls).toEqual(['/portal']);
  });

  it.each([
    ['no fragment', ''],
    ['another parameter', '#session=hfp_abc'],
    ['not a portal token', '#token=sk_live_abc'],
    ['characters a token never has', '#token=hfp_abc%3Cscript%3E'],
    ['empty', '#token='],
  ])('refuses %s', (_name, hash) => {
    const b = fakeBrowser(hash);
    expect(takeTokenFromFragment(b.location, b.history)).toBeNull();
    // Whatever was in the fragment is removed all the same.
    expect(b.calls).toEqual(hash ? ['/portal'] : []);
  });
});

describe('brandStyle', () => {
  it('makes a #rrggbb colour the accent, with readable text on it', () => {
    const dark = brandStyle('#0f766e') as Record<string, string>;
    expect(dark['--accent-9']).toBe('#0f766e');
    expect(dark['--accent-contrast']).toBe('#fff');
    expect((brandStyle('#fde047') as Record<string, string>)['--accent-contrast']).toBe('#111');
  });

  it.each([undefined, '', 'red', '#fff', '#12345g', 'url(x)', '#000000; color: red'])('ignores %j', (value) => {
    expect(brandStyle(value)).toBeUndefined();
  });
});

describe('examplePayload', () => {
  it('uses the schema’s examples, enums and types, the same every time', () => {
    const schema = {
      type: 'object',
      properties: { id: { type: 'string', example: 'inv_1' }, amount: { type: 'integer' }, currency: { enum: ['EUR', 'USD'] }, at: { type: 'string', format: 'date-time' } },
    };
    const first = examplePayload(schema);
    expect(first).toMatchObject({ id: 'inv_1', amount: 0, currency: 'EUR' });
    expect(typeof first.at).toBe('string');
    expect(examplePayload(schema)).toEqual(first);
  });

  it('is an empty object without a schema, and wraps a schema that is not of an object', () => {
    expect(examplePayload(null)).toEqual({});
    expect(examplePayload({ type: 'string', example: 'x' })).toEqual({ value: 'x' });
  });
});

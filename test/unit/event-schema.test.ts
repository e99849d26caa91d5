import { describe, expect, it } from 'vitest';
import { compileSchema } from '../../src/api/event-types';

/** Payload schemas of event types: JSON Schema 2020-12 with its formats enforced (ajv-formats). */
describe('compileSchema', () => {
  const validate = compileSchema({
    type: 'object',
    properties: {
      email: { type: 'string', format: 'email' },
      at: { type: 'string', format: 'date-time' },
      id: { type: 'string', format: 'uuid' },
      site: { type: 'string', format: 'uri' },
    },
  });

  it.each([
    [{ email: 'ops@example.com' }, true],
    [{ email: 'not an address' }, false],
    [{ email: 'ops@' }, false],
    [{ at: '2026-12-03T10:15:00Z' }, true],
    [{ at: 'yesterday' }, false],
    [{ id: '0b7c3f1e-6a53-4f2e-9d55-2f8e1f0c9a10' }, true],
    [{ id: '42' }, false],
    [{ site: 'https://example.com/hooks' }, true],
    [{ site: 'example dot com' }, false],
  ])('%j is valid: %s', (payload, valid) => {
    expect(validate(payload)).toBe(valid);
    if (!valid) expect(validate.errors?.[0]?.keyword).toBe('format');
  });
});

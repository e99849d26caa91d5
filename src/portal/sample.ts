import { sample } from 'openapi-sampler';

/**
 * An example payload for an event type, generated from its JSON Schema (examples, defaults, enums and
 * formats are used where the schema gives them); the same schema always gives the same example.
 */
export function examplePayload(schema: Record<string, unknown> | null | undefined): Record<string, unknown> {
  if (!schema) return {};
  try {
    const value = sample(schema, { skipReadOnly: false, skipWriteOnly: true, quiet: true });
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return {};
  }
}

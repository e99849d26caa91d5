import { parse, stringify } from 'lossless-json';
import { ApiFailure, api, unwrap, type EventType } from './api/client';
import { examplePayload } from './sample';

/**
 * The filter editor's plumbing. Filters and sample events travel as JSON text, read and written with
 * lossless-json, so a number such as 12345678901234567890 or 10.10 keeps its digits from the API to the
 * editor and back: hookflow compares numbers by exact value, and so must its preview.
 */

/** Pretty JSON text of a value read with lossless-json (numbers as written). */
export const pretty = (value: unknown): string => stringify(value, null, 2) ?? '';

/** An endpoint's filter as text for the editor, read from the endpoint's own JSON text; '' when it has none. */
export async function endpointFilterText(id: string): Promise<string> {
  const text = await unwrap(api.GET('/endpoints/{id}', { params: { path: { id } }, parseAs: 'text' }));
  const filter = (parse(text) as { filter?: unknown }).filter;
  return filter === null || filter === undefined ? '' : pretty(filter);
}

export type Sample = { text: string; source: 'last' | 'example'; at?: string };

/**
 * A sample event of `type` as its receiver would get it, with its channels: the last one this tenant sent,
 * or, when there is none, one made of the type's example payload.
 */
export async function sampleEvent(type: EventType, tenantId: string): Promise<Sample> {
  const text = await unwrap(api.GET('/events', { params: { query: { type: type.name, limit: 1 } }, parseAs: 'text' }));
  const last = (parse(text) as { data: { id: string; type: string; tenantId: string; createdAt: string; payload: unknown; channels: string[] }[] }).data[0];
  if (last) {
    const event = { id: last.id, type: last.type, tenantId: last.tenantId, timestamp: last.createdAt, data: last.payload, channels: last.channels };
    return { text: pretty(event), source: 'last', at: last.createdAt };
  }
  const event = { id: 'msg_example', type: type.name, tenantId, timestamp: new Date().toISOString(), data: examplePayload(type.schema), channels: [] };
  return { text: JSON.stringify(event, null, 2), source: 'example' };
}

export type Verdict =
  | { kind: 'empty' }
  | { kind: 'matches' | 'no-match' }
  | { kind: 'invalid'; problems: { path: string; message: string }[] }
  | { kind: 'failed'; message: string };

/** What is wrong with text that is not JSON, and where, as "line L, column C" (lossless-json says the offset). */
export function syntaxProblem(text: string, what: 'filter' | 'sample event'): { path: string; message: string } | undefined {
  try {
    parse(text);
    return undefined;
  } catch (err) {
    const message = (err as Error).message;
    const position = /at position (\d+)$/.exec(message)?.[1];
    if (position === undefined) return { path: what, message: `is not JSON: ${message}` };
    const before = text.slice(0, Number(position)).split('\n');
    return { path: what, message: `is not JSON: ${message.replace(/ at position \d+$/, '')} at line ${before.length}, column ${before[before.length - 1]!.length + 1}` };
  }
}

/** Asks hookflow whether the filter matches the sample, both sent as the text written (exact numbers). */
export async function testFilter(filter: string, event: string): Promise<Verdict> {
  if (filter.trim() === '') return { kind: 'empty' };
  const problem = syntaxProblem(filter, 'filter') ?? syntaxProblem(event, 'sample event');
  if (problem) return { kind: 'invalid', problems: [problem] };
  try {
    const { matches } = await unwrap(
      api.POST('/filters/test', { body: {} as never, bodySerializer: () => `{"filter":${filter},"event":${event}}` }),
    );
    return { kind: matches ? 'matches' : 'no-match' };
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 422) {
      return { kind: 'invalid', problems: err.details.map((d) => ({ path: d.path.replace(/^body\./, ''), message: d.message })) };
    }
    return { kind: 'failed', message: (err as Error).message };
  }
}

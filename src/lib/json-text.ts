import { randomUUID } from 'node:crypto';

/** JSON text embedded as it is in what is sent: an event's payload exactly as its producer wrote it. */
export class JsonText {
  constructor(readonly text: string) {}
}

/**
 * JSON.stringify, with the text of each JsonText in `value` spliced in unchanged. Node 20 has no
 * JSON.rawJSON, so each is first written as a marker string no input can contain (a NUL, which
 * JSON.stringify escapes in every other string, and a random id made for this call), then replaced.
 */
export function stringifyJson(value: unknown): string {
  const texts: string[] = [];
  const marker = `\u0000${randomUUID()}:`;
  const json = JSON.stringify(value, (_key, v: unknown) => (v instanceof JsonText ? `${marker}${texts.push(v.text) - 1}` : v));
  if (texts.length === 0) return json;
  const written = new RegExp(`"\\\\u0000${marker.slice(1)}(\\d+)"`, 'g');
  return json.replace(written, (_match, i: string) => texts[Number(i)]!);
}

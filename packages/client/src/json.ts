/**
 * JSON text sent as it is: hookflow keeps an event's payload as its producer wrote it (numbers' digits,
 * key order), which a round trip through JSON.parse would lose (`12345678901234567890` becomes
 * `12345678901234570000`). Pass `rawJson(text)` where a payload object goes.
 */
export class RawJson {
  constructor(readonly text: string) {
    JSON.parse(text);
  }
}

export function rawJson(text: string): RawJson {
  return new RawJson(text);
}

/**
 * JSON.stringify, with the text of each RawJson spliced in unchanged. Without JSON.rawJSON (Node 20),
 * each is first written as a marker string no input can contain (a NUL, which JSON.stringify escapes in
 * every other string, and a random id made for this call), then replaced.
 */
export function serializeJson(value: unknown): string {
  const texts: string[] = [];
  const marker = `\u0000${globalThis.crypto.randomUUID()}:`;
  const json = JSON.stringify(value, (_key, v: unknown) => (v instanceof RawJson ? `${marker}${texts.push(v.text) - 1}` : v));
  if (texts.length === 0) return json;
  const written = new RegExp(`"\\\\u0000${marker.slice(1)}(\\d+)"`, 'g');
  return json.replace(written, (_match, i: string) => texts[Number(i)]!);
}

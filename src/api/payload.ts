import type { IncomingMessage } from 'node:http';
import { TextDecoder } from 'node:util';
import { parseTree, type Node } from 'jsonc-parser';
import { MAX_JSON_DEPTH } from './common';
import { ApiError, validationFailed } from './errors';

/**
 * An event's payload exactly as its producer wrote it (contract, "Ids": numbers keep their digits, keys
 * their order, duplicate keys are refused, only whitespace between tokens may differ). JSON.parse, which
 * express.json runs, turns 12345678901234567890 into 12345678901234567000, 10.10 into 10.1 and puts
 * integer-like keys first, so the payload is read a second time from the body's text, with jsonc-parser,
 * which keeps every value's place in the text: the payload is its own tokens, joined without whitespace.
 */

const rawBodies = new WeakMap<IncomingMessage, { bytes: Buffer; charset: string }>();

/** express.json's `verify`: keeps the body's bytes (after Content-Encoding) for `payloadText`. */
export function keepRawBody(req: IncomingMessage, _res: unknown, bytes: Buffer, charset: string): void {
  rawBodies.set(req, { bytes, charset });
}

/**
 * The payload's JSON text from the body of `req`, which express.json has parsed (so it is valid JSON).
 * Refuses duplicate keys anywhere in the body with 422, naming each one's path.
 */
export function payloadText(req: IncomingMessage): string {
  const text = bodyValueText(req, 'payload');
  if (text === undefined) throw new Error('payloadText called on a body without a payload');
  return text;
}

/** Each body's text and tree, read once however many of its values are asked for. */
const trees = new WeakMap<IncomingMessage, { text: string; tree: Node | undefined }>();

/**
 * The JSON text of one top-level value of the body, as written without whitespace between tokens
 * (payloads, filters: their numbers keep their digits), or undefined when the body has no such key.
 * Refuses duplicate keys anywhere in the body with 422, naming each one's path.
 */
export function bodyValueText(req: IncomingMessage, key: string): string | undefined {
  let parsed = trees.get(req);
  if (!parsed) {
    const raw = rawBodies.get(req);
    if (!raw) throw new Error('bodyValueText needs express.json with verify: keepRawBody');
    const text = decode(raw.bytes, raw.charset);
    let tree: Node | undefined;
    try {
      tree = parseTree(text, [], { disallowComments: true, allowTrailingComma: false });
    } catch (err) {
      // jsonc-parser recurses; the payload's depth is already checked, so only a duplicate key that
      // JSON.parse dropped can hide nesting this deep.
      if (err instanceof RangeError) throw tooDeep();
      throw err;
    }
    const duplicates = duplicateKeys(tree);
    if (duplicates.length > 0) {
      throw validationFailed('The body has duplicate keys: each key may appear once in an object.', duplicates.map((path) => ({ path, message: 'is a duplicate key' })));
    }
    parsed = { text, tree };
    trees.set(req, parsed);
  }
  const value = parsed.tree?.children?.find((p) => p.children?.[0]?.value === key)?.children?.[1];
  return value && compact(parsed.text, value);
}

/** body-parser decodes with iconv-lite any `utf-*` charset; TextDecoder knows utf-8 and utf-16, which is what JSON may be sent in. */
function decode(bytes: Buffer, charset: string): string {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset);
  } catch {
    throw new ApiError(415, 'unsupported_media_type', 'The body must be UTF-8 JSON.');
  }
  return decoder.decode(bytes);
}

const tooDeep = () => validationFailed('The body nests too deeply.', [{ path: 'body', message: `must nest at most ${MAX_JSON_DEPTH} levels` }]);

/** At most this many duplicate keys are named in one answer. */
const MAX_DUPLICATES_NAMED = 20;

function duplicateKeys(tree: Node | undefined): string[] {
  const found: string[] = [];
  const stack: { node: Node; path: string }[] = tree ? [{ node: tree, path: 'body' }] : [];
  while (stack.length > 0 && found.length < MAX_DUPLICATES_NAMED) {
    const { node, path } = stack.pop()!;
    if (node.type === 'object') {
      const seen = new Set<string>();
      for (const property of node.children ?? []) {
        const [key, value] = property.children ?? [];
        const name = String(key?.value);
        if (seen.has(name)) found.push(`${path}.${name}`);
        seen.add(name);
        if (value) stack.push({ node: value, path: `${path}.${name}` });
      }
    } else if (node.type === 'array') {
      (node.children ?? []).forEach((element, i) => stack.push({ node: element, path: `${path}.${i}` }));
    }
  }
  return found;
}

/** The value's text without whitespace between tokens; strings, numbers and keys as written. */
function compact(text: string, value: Node): string {
  const out: string[] = [];
  const stack: (Node | string)[] = [value];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      out.push(item);
    } else if (item.type === 'object' || item.type === 'array') {
      const [open, close] = item.type === 'object' ? ['{', '}'] : ['[', ']'];
      const children = item.children ?? [];
      out.push(open);
      stack.push(close);
      for (let i = children.length - 1; i >= 0; i -= 1) {
        stack.push(children[i]!);
        if (i > 0) stack.push(',');
      }
    } else if (item.type === 'property') {
      const [key, propertyValue] = item.children!;
      stack.push(propertyValue!, ':', key!);
    } else {
      out.push(text.slice(item.offset, item.offset + item.length));
    }
  }
  return out.join('');
}

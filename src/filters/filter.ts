import Big from 'big.js';
import { isLosslessNumber, parse, type LosslessNumber } from 'lossless-json';

/**
 * Endpoint filters: Hookdeck's and Convoy's JSON filter syntax (the `simple-json-match` package is its
 * reference), matched against the event as its receiver gets it. Filters and events are read with
 * lossless-json, so every number keeps the digits it was written with, and numbers compare by exact
 * decimal value (big.js): 12345678901234567890 > 12345678901234567889, 10.10 = 10.1, 1e400 > 1e399.
 *
 * Where the reference is silent or inconsistent, hookflow decides (docs/filters.md):
 * - strict equality: `"5"` never equals `5`, `true` never equals `1` (simple-json-match uses `==`);
 * - a missing key matches only `$exist: false` and the negations (`$neq`, `$nin`, `$not`), so `$neq`
 *   is always exactly `$not` of `$eq` and `$nin` of `$in`;
 * - `$in`/`$nin` on an array value look at its elements, as a plain value does;
 * - `$not` works at any depth; an unknown `$` key (`$ref` included) is refused instead of read as a field.
 */

/** A JSON value as lossless-json reads it: numbers stay their text. */
export type Json = null | boolean | string | LosslessNumber | Json[] | { [key: string]: Json };

/** A compiled filter: does this value (undefined = the key is missing) match? */
export type Match = (value: Json | undefined) => boolean;

export type FilterProblem = { path: string; message: string };

/** Why a filter was refused: each problem with its path (e.g. `body.filter.data.amount.$gtt`). */
export class FilterError extends Error {
  constructor(readonly problems: FilterProblem[]) {
    super(problems.map((p) => `${p.path} ${p.message}`).join('; '));
  }
}

/** A filter's JSON text, without whitespace between tokens, is at most this many bytes. */
export const MAX_FILTER_BYTES = 8_192;

/** Filters nest at most as deep as payloads (MAX_JSON_DEPTH in src/api/common.ts). */
const MAX_FILTER_DEPTH = 64;

export const OPERATORS = [
  '$eq', '$neq', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$startsWith', '$endsWith', '$exist', '$and', '$or', '$not',
] as const;
type Operator = (typeof OPERATORS)[number];
const isOperator = (key: string): key is Operator => (OPERATORS as readonly string[]).includes(key);

/** Reads JSON text keeping every number's digits; a key twice with different values is an error. */
export function parseExactJson(text: string): Json {
  return parse(text) as Json;
}

/**
 * Compiles a filter's JSON text. Throws FilterError naming each problem's path under `path`: text that is
 * not JSON or not an object, an unknown operator, an operand of the wrong kind, too large or too deep.
 */
export function compileFilter(text: string, path = 'filter'): Match {
  if (Buffer.byteLength(text, 'utf8') > MAX_FILTER_BYTES) {
    throw new FilterError([{ path, message: `must be at most ${MAX_FILTER_BYTES} bytes of JSON (8 KiB)` }]);
  }
  let value: Json;
  try {
    value = parseExactJson(text);
  } catch (err) {
    throw new FilterError([{ path, message: `is not JSON: ${(err as Error).message}` }]);
  }
  if (!isObject(value)) throw new FilterError([{ path, message: 'must be a JSON object' }]);
  return compileValue(value, path);
}

/** Compiles an already parsed filter value; the same checks as compileFilter except the size. */
export function compileValue(filter: Json, path = 'filter'): Match {
  const problems: FilterProblem[] = [];
  const match = compile(filter, path, 1, problems);
  if (problems.length > 0) throw new FilterError(problems.slice(0, 20));
  return match;
}

function compile(filter: Json, path: string, depth: number, problems: FilterProblem[]): Match {
  if (depth > MAX_FILTER_DEPTH) {
    problems.push({ path, message: `nests deeper than ${MAX_FILTER_DEPTH} levels` });
    return never;
  }
  if (Array.isArray(filter)) {
    // Every item of the filter is contained in the array (each matched by some element).
    const items = filter.map((item, i) => compile(item, `${path}.${i}`, depth + 1, problems));
    return (v) => Array.isArray(v) && items.every((item) => v.some((element) => item(element)));
  }
  if (!isObject(filter)) {
    // A plain value: equal to the value, or contained in an array (at any depth, as the reference does).
    const equal: Match = (v) => (Array.isArray(v) ? v.some((element) => equal(element)) : v !== undefined && primitiveEqual(v, filter));
    return equal;
  }
  const operators: Match[] = [];
  const fields: [string, Match][] = [];
  for (const [key, operand] of Object.entries(filter)) {
    const at = `${path}.${key}`;
    if (key.startsWith('$')) {
      if (isOperator(key)) operators.push(compileOperator(key, operand, at, depth, problems));
      else problems.push({ path: at, message: `is not an operator; use one of ${OPERATORS.join(', ')}` });
    } else {
      fields.push([key, compile(operand, at, depth + 1, problems)]);
    }
  }
  const ofObject = (v: Json | undefined): boolean => isObject(v) && fields.every(([key, m]) => m(Object.hasOwn(v, key) ? v[key] : undefined));
  if (operators.length === 0) {
    // Keys (or none: `{}`) need an object, or an array holding one that matches them all.
    return (v) => (Array.isArray(v) ? v.some(ofObject) : ofObject(v));
  }
  if (fields.length === 0) return (v) => operators.every((m) => m(v));
  return (v) => operators.every((m) => m(v)) && (Array.isArray(v) ? v.some(ofObject) : ofObject(v));
}

function compileOperator(op: Operator, operand: Json, path: string, depth: number, problems: FilterProblem[]): Match {
  const refuse = (message: string): Match => {
    problems.push({ path, message });
    return never;
  };
  switch (op) {
    case '$eq':
      return (v) => v !== undefined && deepEqual(v, operand);
    case '$neq':
      return (v) => !(v !== undefined && deepEqual(v, operand));
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      if (typeof operand !== 'string' && !isLosslessNumber(operand)) return refuse('must be a number or a string');
      const holds = ORDER[op];
      return (v) => {
        const order = compareSameKind(v, operand);
        return order !== undefined && holds(order);
      };
    }
    case '$in':
    case '$nin': {
      let contains: (v: Json) => boolean;
      if (typeof operand === 'string') {
        contains = (v) => typeof v === 'string' && v.includes(operand);
      } else if (Array.isArray(operand) && operand.every(isPrimitive)) {
        contains = (v) => operand.some((item) => primitiveEqual(v, item));
      } else {
        return refuse('must be an array of strings, numbers, booleans or nulls, or a string');
      }
      const isIn: Match = (v) => v !== undefined && (Array.isArray(v) ? v.some(contains) : contains(v));
      return op === '$in' ? isIn : (v) => !isIn(v);
    }
    case '$startsWith':
    case '$endsWith': {
      const texts = typeof operand === 'string' ? [operand] : operand;
      if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) {
        return refuse('must be a string or a non-empty array of strings');
      }
      const strings = texts.filter((t) => typeof t === 'string');
      return op === '$startsWith'
        ? (v) => typeof v === 'string' && strings.some((t) => v.startsWith(t))
        : (v) => typeof v === 'string' && strings.some((t) => v.endsWith(t));
    }
    case '$exist':
      if (typeof operand !== 'boolean') return refuse('must be true or false');
      return (v) => (v !== undefined) === operand;
    case '$and':
    case '$or': {
      if (!Array.isArray(operand) || operand.length === 0) return refuse('must be a non-empty array of filters');
      const parts = operand.map((item, i) => compile(item, `${path}.${i}`, depth + 1, problems));
      return op === '$and' ? (v) => parts.every((m) => m(v)) : (v) => parts.some((m) => m(v));
    }
    case '$not': {
      const inner = compile(operand, path, depth + 1, problems);
      return (v) => !inner(v);
    }
  }
}

const never: Match = () => false;

const ORDER: Record<'$gt' | '$gte' | '$lt' | '$lte', (order: number) => boolean> = {
  $gt: (o) => o > 0,
  $gte: (o) => o >= 0,
  $lt: (o) => o < 0,
  $lte: (o) => o <= 0,
};

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);
}

function isPrimitive(v: Json | undefined): v is null | boolean | string | LosslessNumber {
  return v === null || typeof v === 'boolean' || typeof v === 'string' || isLosslessNumber(v);
}

/** Equal primitives of the same kind; numbers by exact value. */
function primitiveEqual(a: Json, b: Json): boolean {
  if (isLosslessNumber(a)) return isLosslessNumber(b) && decimal(a).eq(decimal(b));
  return a === b;
}

/** Deep equality: numbers by exact value, objects by their keys whatever their order, arrays in order. */
export function deepEqual(a: Json, b: Json): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]!));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key]!, b[key]!));
  }
  return primitiveEqual(a, b);
}

/** The order of two numbers or of two strings (by code point); undefined for anything else. */
function compareSameKind(a: Json | undefined, b: string | LosslessNumber): number | undefined {
  if (typeof b === 'string') return typeof a === 'string' ? compareCodePoints(a, b) : undefined;
  return isLosslessNumber(a) ? decimal(a).cmp(decimal(b)) : undefined;
}

/**
 * Strings ordered by Unicode code point, as UTF-8 bytes and Postgres's C collation order them. JavaScript's
 * `<` orders UTF-16 code units, which puts U+E000–U+FFFF after every astral character; shifting the units
 * at the first difference (surrogates up by 0x2000, U+E000–U+FFFF down by 0x800) restores code point order.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointOrder(x) - codePointOrder(y);
  }
  return a.length - b.length;
}

function codePointOrder(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/**
 * A number's exact decimal value. The same event is matched against every endpoint's filter, so each
 * number is read once per event, not once per comparison.
 */
const decimals = new WeakMap<LosslessNumber, Big>();

function decimal(n: LosslessNumber): Big {
  let value = decimals.get(n);
  if (value === undefined) {
    value = new Big(n.value);
    decimals.set(n, value);
  }
  return value;
}

import fc from 'fast-check';
import { LosslessNumber, stringify } from 'lossless-json';
import simpleJsonMatch from 'simple-json-match';
import { describe, expect, it } from 'vitest';
import { compareCodePoints, compileFilter, FilterError, MAX_FILTER_BYTES, parseExactJson, type Json } from '../../src/filters/filter';
import { selectByFilter } from '../../src/filters/select';

/**
 * Each row: a filter and an event (as JSON text, so numbers keep their digits), hookflow's answer, and
 * how simple-json-match (Hookdeck's reference) answers the same pair read by JSON.parse: `same`, or
 * why hookflow differs. Differences are where the reference's answer is not the documented one (its
 * README: "equal", "contains", "$exist requires a field to be undefined when false") or where exact
 * numbers are the contract's.
 */
type Row = { name: string; filter: string; event: string; matches: boolean; reference: 'same' | `differs: ${string}` };

const ORDER = '{"id":"msg_1","type":"invoice.paid","tenantId":"acme","timestamp":"2026-03-01T10:00:00.000Z","data":{"amount":1500,"currency":"EUR","region":"eu-west","customer":{"id":"cus_9","tier":"gold","tags":["vip","beta"]},"lines":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"note":null,"paid":true},"channels":["billing","eu"]}';

const TABLE: Row[] = [
  // Plain values, nesting, arrays
  { name: 'an equal string at the top', filter: '{"type":"invoice.paid"}', event: ORDER, matches: true, reference: 'same' },
  { name: 'another string', filter: '{"type":"invoice.void"}', event: ORDER, matches: false, reference: 'same' },
  { name: 'nested objects match nested', filter: '{"data":{"customer":{"tier":"gold"}}}', event: ORDER, matches: true, reference: 'same' },
  { name: 'every key must match', filter: '{"type":"invoice.paid","data":{"currency":"USD"}}', event: ORDER, matches: false, reference: 'same' },
  { name: 'an empty filter matches every event', filter: '{}', event: ORDER, matches: true, reference: 'same' },
  { name: 'a plain value in an array: contains', filter: '{"channels":"eu"}', event: ORDER, matches: true, reference: 'same' },
  { name: 'a plain value not in the array', filter: '{"channels":"us"}', event: ORDER, matches: false, reference: 'same' },
  { name: 'an array filter: all of its items contained', filter: '{"data":{"customer":{"tags":["beta","vip"]}}}', event: ORDER, matches: true, reference: 'same' },
  { name: 'an array filter with an item missing', filter: '{"data":{"customer":{"tags":["vip","alpha"]}}}', event: ORDER, matches: false, reference: 'same' },
  { name: 'an object against an array of objects: some element matches', filter: '{"data":{"lines":{"sku":"B-7","qty":1}}}', event: ORDER, matches: true, reference: 'same' },
  { name: 'an object no single element matches', filter: '{"data":{"lines":{"sku":"B-7","qty":2}}}', event: ORDER, matches: false, reference: 'same' },
  { name: 'a key against a plain value is no match', filter: '{"data":{"amount":{"value":1500}}}', event: ORDER, matches: false, reference: 'same' },
  { name: 'a plain value against an object is no match', filter: '{"data":{"customer":"cus_9"}}', event: ORDER, matches: false, reference: 'same' },
  // null and missing keys
  { name: 'null equals null', filter: '{"data":{"note":null}}', event: ORDER, matches: true, reference: 'same' },
  { name: 'null does not equal a missing key', filter: '{"data":{"memo":null}}', event: ORDER, matches: false, reference: 'same' },
  { name: 'a missing key fails a plain value', filter: '{"data":{"memo":"x"}}', event: ORDER, matches: false, reference: 'same' },
  { name: '$exist true on a key holding null', filter: '{"data":{"note":{"$exist":true}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$exist false on a missing key', filter: '{"data":{"memo":{"$exist":false}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$exist false on a present key', filter: '{"data":{"amount":{"$exist":false}}}', event: ORDER, matches: false, reference: 'same' },
  { name: '$exist true on a missing key', filter: '{"data":{"memo":{"$exist":true}}}', event: ORDER, matches: false, reference: 'same' },
  {
    name: '$neq on a missing key: it is not equal', filter: '{"data":{"memo":{"$neq":"x"}}}', event: ORDER, matches: true,
    reference: 'differs: simple-json-match fails every condition on a missing key but `$exist: false`; hookflow keeps `$neq` the exact negation of `$eq`',
  },
  // Comparison operators
  { name: '$eq on a number', filter: '{"data":{"amount":{"$eq":1500}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$eq deep-equal object', filter: '{"data":{"customer":{"$eq":{"id":"cus_9","tier":"gold","tags":["vip","beta"]}}}}', event: ORDER, matches: true, reference: 'same' },
  {
    name: '$eq deep-equal object, keys in another order', filter: '{"data":{"customer":{"$eq":{"tier":"gold","tags":["vip","beta"],"id":"cus_9"}}}}', event: ORDER, matches: true,
    reference: 'differs: simple-json-match compares JSON.stringify texts, so key order counts; JSON objects are unordered',
  },
  { name: '$neq on an equal value', filter: '{"data":{"currency":{"$neq":"EUR"}}}', event: ORDER, matches: false, reference: 'same' },
  { name: '$neq on another value', filter: '{"data":{"currency":{"$neq":"USD"}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$gt', filter: '{"data":{"amount":{"$gt":1000}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$gt on an equal number', filter: '{"data":{"amount":{"$gt":1500}}}', event: ORDER, matches: false, reference: 'same' },
  { name: '$gte on an equal number', filter: '{"data":{"amount":{"$gte":1500}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$lt', filter: '{"data":{"amount":{"$lt":1500.5}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$lte', filter: '{"data":{"amount":{"$lte":1499.99}}}', event: ORDER, matches: false, reference: 'same' },
  { name: 'a range: two operators on one key', filter: '{"data":{"amount":{"$gte":1000,"$lt":2000}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$gte on ISO timestamps (strings)', filter: '{"timestamp":{"$gte":"2026-01-01T00:00:00Z"}}', event: ORDER, matches: true, reference: 'same' },
  {
    name: '$gt between a string and a number', filter: '{"data":{"amount":{"$gt":"1000"}}}', event: ORDER, matches: false,
    reference: 'differs: simple-json-match lets JavaScript coerce "1000" to a number; hookflow compares numbers with numbers and strings with strings',
  },
  {
    name: 'a number never equals its string', filter: '{"data":{"amount":"1500"}}', event: ORDER, matches: false,
    reference: 'differs: simple-json-match compares with ==, so "1500" equals 1500',
  },
  // $in, $nin, $startsWith, $endsWith
  { name: '$in a list', filter: '{"data":{"currency":{"$in":["USD","EUR"]}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$in a list, absent', filter: '{"data":{"currency":{"$in":["USD","GBP"]}}}', event: ORDER, matches: false, reference: 'same' },
  { name: '$in a string: a substring', filter: '{"data":{"region":{"$in":"west"}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$nin a list', filter: '{"data":{"currency":{"$nin":["USD","GBP"]}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$nin a list holding the value', filter: '{"data":{"currency":{"$nin":["EUR"]}}}', event: ORDER, matches: false, reference: 'same' },
  {
    name: '$in on an array value: one of its elements', filter: '{"data":{"customer":{"tags":{"$in":["vip","staff"]}}}}', event: ORDER, matches: true,
    reference: 'differs: simple-json-match refuses an array value for $in (no match); hookflow reads the elements, as a plain value does',
  },
  { name: '$startsWith', filter: '{"data":{"region":{"$startsWith":"eu-"}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$startsWith any of a list', filter: '{"type":{"$startsWith":["order.","invoice."]}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$endsWith', filter: '{"data":{"region":{"$endsWith":"-east"}}}', event: ORDER, matches: false, reference: 'same' },
  { name: '$startsWith on a number is no match', filter: '{"data":{"amount":{"$startsWith":"15"}}}', event: ORDER, matches: false, reference: 'same' },
  // Logic
  { name: '$or: one alternative matches', filter: '{"$or":[{"type":"invoice.void"},{"data":{"paid":true}}]}', event: ORDER, matches: true, reference: 'same' },
  { name: '$or: none matches', filter: '{"$or":[{"type":"invoice.void"},{"data":{"paid":false}}]}', event: ORDER, matches: false, reference: 'same' },
  { name: '$or under a key', filter: '{"data":{"currency":{"$or":["USD","EUR"]}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$and: all hold', filter: '{"$and":[{"data":{"amount":{"$gt":1000}}},{"channels":"billing"}]}', event: ORDER, matches: true, reference: 'same' },
  { name: '$and: one fails', filter: '{"$and":[{"data":{"amount":{"$gt":1000}}},{"channels":"support"}]}', event: ORDER, matches: false, reference: 'same' },
  { name: '$not at the top', filter: '{"$not":{"data":{"region":"us-east"}}}', event: ORDER, matches: true, reference: 'same' },
  { name: '$not of a match', filter: '{"$not":{"type":"invoice.paid"}}', event: ORDER, matches: false, reference: 'same' },
  {
    name: '$not under a key', filter: '{"data":{"currency":{"$not":{"$in":["USD","GBP"]}}}}', event: ORDER, matches: true,
    reference: 'differs: simple-json-match applies $not only to objects (it answers no match); hookflow negates at any depth',
  },
  // Exact numbers
  {
    name: 'a 20-digit integer, greater by one', filter: '{"data":{"n":{"$gt":12345678901234567889}}}', event: '{"data":{"n":12345678901234567890}}', matches: true,
    reference: 'differs: JSON.parse reads both as 12345678901234567000, which is not greater than itself',
  },
  {
    name: 'two 20-digit integers a double cannot tell apart', filter: '{"data":{"n":12345678901234567889}}', event: '{"data":{"n":12345678901234567890}}', matches: false,
    reference: 'differs: JSON.parse makes them one double, so they are equal there',
  },
  { name: '10.10 equals 10.1', filter: '{"data":{"price":10.1}}', event: '{"data":{"price":10.10}}', matches: true, reference: 'same' },
  { name: '1e2 equals 100 and -0 equals 0', filter: '{"data":{"a":100,"b":0}}', event: '{"data":{"a":1e2,"b":-0}}', matches: true, reference: 'same' },
  {
    name: '1e400 is greater than 1e399', filter: '{"data":{"big":{"$gt":1e399}}}', event: '{"data":{"big":1e400}}', matches: true,
    reference: 'differs: JSON.parse reads both as Infinity',
  },
  {
    name: '0.1 + 0.2 written out is not 0.3', filter: '{"data":{"x":0.3}}', event: '{"data":{"x":0.30000000000000004}}', matches: false, reference: 'same',
  },
  {
    name: 'a 30-decimal amount above its bound', filter: '{"data":{"x":{"$gt":0.100000000000000000000000000001}}}', event: '{"data":{"x":0.100000000000000000000000000002}}', matches: true,
    reference: 'differs: JSON.parse rounds both to 0.1',
  },
  // Unicode
  { name: 'Unicode strings equal', filter: '{"data":{"city":"Zürich 🇨🇭"}}', event: '{"data":{"city":"Z\\u00fcrich \\ud83c\\udde8\\ud83c\\udded"}}', matches: true, reference: 'same' },
  { name: 'composed and decomposed forms differ', filter: '{"data":{"city":"Zu\\u0308rich"}}', event: '{"data":{"city":"Zürich"}}', matches: false, reference: 'same' },
  { name: '$startsWith an emoji', filter: '{"data":{"title":{"$startsWith":"🚀"}}}', event: '{"data":{"title":"🚀 launch"}}', matches: true, reference: 'same' },
  {
    name: 'strings order by code point (U+FF5E after U+1F680)', filter: '{"data":{"s":{"$gt":"🚀"}}}', event: '{"data":{"s":"～"}}', matches: false,
    reference: 'differs: JavaScript orders UTF-16 code units, which puts U+FF5E after every astral character',
  },
];

function referenceAnswer(row: Row): boolean {
  return simpleJsonMatch(JSON.parse(row.event) as never, JSON.parse(row.filter) as never);
}

describe('filters: the table', () => {
  it('has at least 40 pairs and covers every operator', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(40);
    for (const op of ['$eq', '$neq', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$startsWith', '$endsWith', '$exist', '$and', '$or', '$not']) {
      expect(TABLE.some((row) => row.filter.includes(`"${op}"`)), op).toBe(true);
    }
  });

  it.each(TABLE)('$name', (row) => {
    expect(compileFilter(row.filter)(parseExactJson(row.event))).toBe(row.matches);
    if (row.reference === 'same') expect(referenceAnswer(row), 'simple-json-match').toBe(row.matches);
    else expect(referenceAnswer(row), `simple-json-match ${row.reference}`).toBe(!row.matches);
  });
});

describe('filters: refused', () => {
  const problems = (text: string) => {
    try {
      compileFilter(text, 'body.filter');
    } catch (err) {
      if (err instanceof FilterError) return err.problems;
      throw err;
    }
    throw new Error('accepted');
  };

  it('an unknown operator, naming its path', () => {
    expect(problems('{"data":{"amount":{"$gtt":5}}}')).toEqual([{ path: 'body.filter.data.amount.$gtt', message: expect.stringContaining('is not an operator') }]);
    expect(problems('{"data":{"$ref":"x"}}')[0]!.path).toBe('body.filter.data.$ref');
  });

  it('operands of the wrong kind, each with its path', () => {
    expect(problems('{"a":{"$gt":true},"b":{"$exist":"yes"},"c":{"$in":[{"x":1}]},"$or":[],"d":{"$startsWith":[]},"e":{"$not":{"$lt":null}}}').map((p) => p.path)).toEqual([
      'body.filter.a.$gt', 'body.filter.b.$exist', 'body.filter.c.$in', 'body.filter.$or', 'body.filter.d.$startsWith', 'body.filter.e.$not.$lt',
    ]);
  });

  it('text that is not a JSON object, or larger than 8 KiB, or nested too deep', () => {
    expect(problems('{"a":')[0]).toEqual({ path: 'body.filter', message: expect.stringContaining('is not JSON') });
    expect(problems('[1]')[0]!.message).toBe('must be a JSON object');
    expect(problems(`{"a":"${'x'.repeat(MAX_FILTER_BYTES)}"}`)[0]!.message).toContain('8 KiB');
    expect(problems(`${'{"a":'.repeat(70)}1${'}'.repeat(70)}`)[0]!.message).toContain('deeper than 64');
  });
});

describe('filters: string order', () => {
  it('is code point order', () => {
    const words = ['a', 'b', 'ab', '', 'é', '～', '🚀', '\uE000', 'z'];
    const byBytes = [...words].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...words].sort(compareCodePoints)).toEqual(byBytes);
  });
});

/** Random JSON objects, numbers kept as lossless text (integers of any size and decimals). */
const number = fc.oneof(
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map((n) => new LosslessNumber(String(n))),
  fc.tuple(fc.integer({ min: -99999, max: 99999 }), fc.nat({ max: 99999 })).map(([i, f]) => new LosslessNumber(`${i}.${String(f).padStart(5, '0')}`)),
);
const key = fc.string({ minLength: 1, maxLength: 8, unit: 'grapheme' }).filter((k) => !k.startsWith('$'));
const leaf = fc.oneof(fc.constant(null), fc.boolean(), fc.string({ unit: 'grapheme', maxLength: 12 }), number);
const { value: jsonValue } = fc.letrec<{ value: Json; object: Record<string, Json> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('value'), { maxLength: 4 }), tie('object')),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
}));
const event = fc.dictionary(key, jsonValue, { minKeys: 1, maxKeys: 6, noNullPrototype: true });

/** A filter made of some of the event's own keys and values, through a random operator each. */
function filterOf(value: Json, choose: (n: number) => number, depth = 0): Json {
  const pick = choose(6);
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof LosslessNumber) && depth < 4) {
    const keys = Object.keys(value);
    return Object.fromEntries(keys.filter((_, i) => i === 0 || choose(2) === 0).map((k) => [k, filterOf(value[k]!, choose, depth + 1)]));
  }
  if (pick === 0) return { $eq: value };
  if (pick === 1) return { $exist: true };
  if (pick === 2 && (typeof value === 'string' || value instanceof LosslessNumber)) return { $gte: value, $lte: value };
  if (pick === 3 && (value === null || typeof value !== 'object' || value instanceof LosslessNumber)) return { $in: [value] };
  if (pick === 4 && typeof value === 'string') return { $startsWith: value, $endsWith: value };
  if (pick === 5) return { $or: [{ $neq: value }, { $eq: value }] };
  return value;
}

describe('filters: properties', () => {
  it("a filter made of a random event's own values matches it; $not of it never does", () => {
    fc.assert(
      fc.property(event, fc.infiniteStream(fc.nat()), (e, stream) => {
        const it = stream[Symbol.iterator]();
        const filter = filterOf(e, (n) => it.next().value % n);
        const text = stringify(filter)!;
        const subject = parseExactJson(stringify(e)!);
        expect(compileFilter(text)(subject)).toBe(true);
        expect(compileFilter(`{"$not":${text}}`)(subject)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('selectByFilter', () => {
  it('reads the event only when an endpoint has a filter, and keeps an endpoint whose stored filter does not compile', () => {
    const none = [{ id: 'ep_a', filter: null }, { id: 'ep_b', filter: null }];
    // Not JSON: it would throw if it were read.
    expect(selectByFilter(none, '')).toEqual({ kept: ['ep_a', 'ep_b'], dropped: [], unreadable: [] });
    const some = [{ id: 'ep_a', filter: '{"type":"a"}' }, { id: 'ep_b', filter: '{"type":"b"}' }, { id: 'ep_c', filter: '{"$ref":"x"}' }, { id: 'ep_d', filter: null }];
    expect(selectByFilter(some, '{"type":"a","data":{}}')).toEqual({ kept: ['ep_a', 'ep_c', 'ep_d'], dropped: ['ep_b'], unreadable: ['ep_c'] });
  });
});

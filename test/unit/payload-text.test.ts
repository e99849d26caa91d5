import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { JsonText, stringifyJson } from '../../src/lib/json-text';
import { keepRawBody, payloadText } from '../../src/api/payload';

function payloadOf(body: string, charset = 'utf-8'): string {
  const req = {} as IncomingMessage;
  keepRawBody(req, undefined, Buffer.from(body, charset === 'utf-16le' ? 'utf16le' : 'utf8'), charset);
  return payloadText(req);
}

describe('payloadText', () => {
  it('is the payload as written, without the whitespace between tokens', () => {
    expect(payloadOf('{ "payload" : { "b" : [ 12345678901234567890 , 10.10 , 1e400 , -0 , 1E+2 ] , "2" : "\\u00e9 x" , "1" : null } , "type" : "a" }'))
      .toBe('{"b":[12345678901234567890,10.10,1e400,-0,1E+2],"2":"\\u00e9 x","1":null}');
  });

  it('reads a UTF-16 body as express.json does', () => {
    expect(payloadOf('{"payload":{"é":1.50}}', 'utf-16le')).toBe('{"é":1.50}');
  });

  it('refuses duplicate keys, decoded, with the path of each', () => {
    expect(() => payloadOf('{"payload":{"a":{"k":1,"\\u006b":2},"l":[{"x":1,"x":1}]}}')).toThrow(
      expect.objectContaining({ status: 422, details: [{ path: 'body.payload.l.0.x', message: 'is a duplicate key' }, { path: 'body.payload.a.k', message: 'is a duplicate key' }] }),
    );
  });

  it('a charset TextDecoder does not know is a 415', () => {
    expect(() => payloadOf('{"payload":{}}', 'utf-7')).toThrow(expect.objectContaining({ status: 415 }));
  });
});

describe('stringifyJson', () => {
  it('splices JsonText in unchanged, wherever it is', () => {
    expect(stringifyJson({ a: new JsonText('{"n":10.10}'), b: [new JsonText('1e400'), 'x'] })).toBe('{"a":{"n":10.10},"b":[1e400,"x"]}');
  });

  it('is JSON.stringify for everything else, strings that look like its markers included', () => {
    const value = { s: '\u0000', t: '"\\u0000x:0"', d: new Date(0), n: null, u: undefined };
    expect(stringifyJson({ ...value, raw: new JsonText('2') })).toBe(`${JSON.stringify(value).slice(0, -1)},"raw":2}`);
    expect(stringifyJson(value)).toBe(JSON.stringify(value));
  });
});

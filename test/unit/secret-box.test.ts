import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, it, expect } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { EncryptionKey, SecretBoxError, createSecretBox, parseEncryptionKey } from '../../src/secrets/secret-box';

const newKey = () => new EncryptionKey(randomBytes(32));
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const EP = 'ep_2f9kq';

describe('SecretBox', () => {
  const key = newKey();
  const box = createSecretBox({ current: key });

  it('round-trips, as enc:v1:<key id>:<base64>, never containing the plaintext', () => {
    const stored = box.seal(SECRET, EP);
    expect(stored).toMatch(new RegExp(`^enc:v1:${key.id}:[A-Za-z0-9+/]+={0,2}$`));
    expect(stored).not.toContain(SECRET);
    expect(stored).not.toContain(SECRET.slice('whsec_'.length));
    expect(box.open(stored, EP)).toBe(SECRET);
  });

  it('uses a fresh IV per seal', () => {
    expect(box.seal(SECRET, EP)).not.toBe(box.seal(SECRET, EP));
  });

  it('refuses a value sealed under a key it does not have, naming the key id and both variables', () => {
    const other = createSecretBox({ current: newKey() });
    const open = () => other.open(box.seal(SECRET, EP), EP);
    expect(open).toThrow(SecretBoxError);
    expect(open).toThrow(key.id);
    expect(open).toThrow(/HOOKFLOW_ENCRYPTION_KEY\b.*HOOKFLOW_ENCRYPTION_KEYS_OLD/);
  });

  it('refuses a wrong key that happens to carry the right id', () => {
    const stored = box.seal(SECRET, EP);
    const impostor = newKey();
    const forged = stored.replace(`:${key.id}:`, `:${impostor.id}:`);
    expect(() => createSecretBox({ current: impostor }).open(forged, EP)).toThrow(/failed authentication/);
  });

  it.each([
    ['a flipped ciphertext bit', (b: Buffer) => (b[14]! ^= 1)],
    ['a flipped IV bit', (b: Buffer) => (b[0]! ^= 1)],
    ['a flipped tag bit', (b: Buffer) => (b[b.length - 1]! ^= 1)],
  ])('detects %s', (_what, tamper) => {
    const stored = box.seal(SECRET, EP);
    const prefix = stored.slice(0, stored.lastIndexOf(':') + 1);
    const bytes = Buffer.from(stored.slice(prefix.length), 'base64');
    tamper(bytes);
    expect(() => box.open(`${prefix}${bytes.toString('base64')}`, EP)).toThrow(/failed authentication/);
  });

  it('detects a truncated value and a malformed one', () => {
    expect(() => box.open(`enc:v1:${key.id}:AAAA`, EP)).toThrow(/truncated/);
    expect(() => box.open('enc:v1:nothex!!:AAAA', EP)).toThrow(SecretBoxError);
    expect(() => box.open('enc:v2:abc', EP)).toThrow(SecretBoxError);
  });

  it("refuses another endpoint's sealed secret copied into this row", () => {
    expect(() => box.open(box.seal(SECRET, 'ep_other'), EP)).toThrow(/another row/);
  });

  it('opens values sealed under an old key, and seals only under the current one', () => {
    const old = newKey();
    const sealedBefore = createSecretBox({ current: old }).seal(SECRET, EP);
    const rotated = createSecretBox({ current: key, old: [old] });
    expect(rotated.open(sealedBefore, EP)).toBe(SECRET);
    expect(rotated.isCurrent(sealedBefore)).toBe(false);
    const resealed = rotated.seal(SECRET, EP);
    expect(resealed.startsWith(`enc:v1:${key.id}:`)).toBe(true);
    expect(rotated.isCurrent(resealed)).toBe(true);
  });

  it('passes plaintext rows written before a key was set through, and counts them as stale', () => {
    expect(box.open(SECRET, EP)).toBe(SECRET);
    expect(box.isCurrent(SECRET)).toBe(false);
  });

  it('without a current key writes plaintext; old keys still open (turning encryption off)', () => {
    const off = createSecretBox({ old: [key] });
    expect(off.seal(SECRET, EP)).toBe(SECRET);
    expect(off.isCurrent(SECRET)).toBe(true);
    const sealed = box.seal(SECRET, EP);
    expect(off.open(sealed, EP)).toBe(SECRET);
    expect(off.isCurrent(sealed)).toBe(false);
    expect(() => createSecretBox().open(sealed, EP)).toThrow(SecretBoxError);
  });
});

describe('EncryptionKey', () => {
  it('has the first 8 hex characters of its SHA-256 as id', () => {
    expect(new EncryptionKey(Buffer.alloc(32)).id).toBe('66687aad'); // sha256 of 32 zero bytes: 66687aadf862bd77…
  });

  it('never shows its bytes when logged or serialised', () => {
    const bytes = randomBytes(32);
    const key = new EncryptionKey(bytes);
    for (const text of [JSON.stringify({ key }), inspect({ key }), String(JSON.stringify([key]))]) {
      expect(text).toContain(key.id);
      expect(text).not.toContain(bytes.toString('base64'));
      expect(text).not.toContain(bytes.toString('hex'));
    }
  });

  it.each([
    ['standard base64', (b: Buffer) => b.toString('base64')],
    ['URL-safe base64', (b: Buffer) => b.toString('base64url')],
    ['base64 with spaces around', (b: Buffer) => `  ${b.toString('base64')} `],
  ])('parses %s of 32 bytes', (_what, encode) => {
    const bytes = randomBytes(32);
    expect(parseEncryptionKey(encode(bytes))?.bytes.equals(bytes)).toBe(true);
  });

  it.each([
    ['16 bytes', randomBytes(16).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['hex of 32 bytes', randomBytes(32).toString('hex')],
    ['a passphrase', 'correct horse battery staple, not a key at all'],
    ['base64 with a stray character', `${randomBytes(32).toString('base64').slice(0, 42)}!=`],
  ])('refuses %s', (_what, text) => {
    expect(parseEncryptionKey(text)).toBeUndefined();
  });
});

describe('encryption configuration', () => {
  const key = randomBytes(32).toString('base64');
  const old1 = randomBytes(32).toString('base64');
  const old2 = randomBytes(32).toString('base64url');

  it('is off by default', () => {
    expect(loadConfig({}).encryption).toEqual({ key: undefined, oldKeys: [] });
  });

  it('reads the current key and the comma-separated old ones; the current key is not repeated among them', () => {
    const { encryption } = loadConfig({ HOOKFLOW_ENCRYPTION_KEY: key, HOOKFLOW_ENCRYPTION_KEYS_OLD: ` ${old1}, ${old2},${key},` });
    expect(encryption.key?.bytes.equals(Buffer.from(key, 'base64'))).toBe(true);
    expect(encryption.oldKeys.map((k) => k.id)).toEqual([parseEncryptionKey(old1)!.id, parseEncryptionKey(old2)!.id]);
  });

  it.each([
    [{ HOOKFLOW_ENCRYPTION_KEY: 'c2hvcnQ=' }, 'HOOKFLOW_ENCRYPTION_KEY', 'c2hvcnQ='],
    [{ HOOKFLOW_ENCRYPTION_KEY: randomBytes(32).toString('hex') }, 'HOOKFLOW_ENCRYPTION_KEY', undefined],
    [{ HOOKFLOW_ENCRYPTION_KEY: key, HOOKFLOW_ENCRYPTION_KEYS_OLD: `${old1},not-a-key-but-secret-ish` }, 'HOOKFLOW_ENCRYPTION_KEYS_OLD', 'not-a-key-but-secret-ish'],
  ])('a bad key stops start-up with a sentence naming the variable, without echoing the value (%#)', (env, name, value) => {
    const load = () => loadConfig(env);
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(name);
    try {
      load();
    } catch (err) {
      const message = (err as Error).message;
      expect(message).not.toContain(env.HOOKFLOW_ENCRYPTION_KEY);
      if (value) expect(message).not.toContain(value);
      if (name.endsWith('_OLD')) expect(message).toContain('entry 2');
    }
  });
});

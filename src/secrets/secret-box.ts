import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

/**
 * Signing secrets at rest: AES-256-GCM under HOOKFLOW_ENCRYPTION_KEY, stored as
 * `enc:v1:<key id>:<base64 of iv | ciphertext | tag>`. The key id (first 8 hex characters of the key's
 * SHA-256) picks the key, so secrets sealed before a key rotation still open with a key from
 * HOOKFLOW_ENCRYPTION_KEYS_OLD. Values without the `enc:` prefix are plaintext written before a key was
 * set; they are read as they are.
 */
const PREFIX = 'enc:v1:';
const IV_BYTES = 12; // the GCM standard nonce; random per seal, so one key seals far fewer than 2^32 values safely
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export class SecretBoxError extends Error {
  // Temporal reports a thrown error's name as its failure type: the UI says why a delivery cannot sign.
  override name = 'SecretUnreadable';
}

/** A 32-byte AES key, known by its id. Serialising or inspecting it (a careless log line) shows only the id. */
export class EncryptionKey {
  readonly id: string;
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    if (bytes.length !== KEY_BYTES) throw new RangeError(`an encryption key has ${KEY_BYTES} bytes, not ${bytes.length}`);
    this.#bytes = Buffer.from(bytes);
    this.id = createHash('sha256').update(bytes).digest('hex').slice(0, 8);
  }

  /** For the cipher only. */
  get bytes(): Buffer {
    return this.#bytes;
  }

  toJSON(): string {
    return `[encryption key ${this.id}]`;
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}

/**
 * A key as an operator writes it: the base64 (standard or URL-safe, padding optional) of exactly
 * 32 bytes, e.g. from `openssl rand -base64 32`. Undefined for anything else; Buffer's own base64
 * decoder skips characters it does not know, so the text is checked first.
 */
export function parseEncryptionKey(text: string): EncryptionKey | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return undefined;
  const bytes = Buffer.from(trimmed, 'base64');
  return bytes.length === KEY_BYTES ? new EncryptionKey(bytes) : undefined;
}

export type SecretBox = {
  /** The stored form of `plaintext`; `context` (the endpoint id) is bound in, so a value moved to another row fails to open. */
  seal(plaintext: string, context: string): string;
  /** The plaintext of a stored value; plaintext rows pass through. Throws SecretBoxError when it cannot. */
  open(stored: string, context: string): string;
  /** Whether `stored` is already in the form `seal` writes now (under the current key, or plaintext when there is none). */
  isCurrent(stored: string): boolean;
};

export const isSealed = (stored: string): boolean => stored.startsWith('enc:');

/**
 * `current` seals (none: values are written in plaintext); `current` and `old` open. Without any key, a
 * sealed value cannot be opened, and saying so beats handing a ciphertext out as a signing secret.
 */
export function createSecretBox(keys: { current?: EncryptionKey; old?: EncryptionKey[] } = {}): SecretBox {
  const current = keys.current;
  const byId = new Map<string, EncryptionKey>();
  for (const key of [...(keys.old ?? []), ...(current ? [current] : [])]) byId.set(key.id, key);
  const aad = (keyId: string, context: string) => Buffer.from(`${PREFIX}${keyId}:${context}`, 'utf8');

  return {
    seal(plaintext, context) {
      if (!current) return plaintext;
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.bytes, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(current.id, context));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${PREFIX}${current.id}:${Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64')}`;
    },

    open(stored, context) {
      if (!isSealed(stored)) return stored;
      const match = /^enc:v1:([0-9a-f]{8}):([A-Za-z0-9+/]+={0,2})$/.exec(stored);
      if (!match) throw new SecretBoxError('A stored secret is not in the enc:v1:<key id>:<base64> form this version of hookflow reads.');
      const [, keyId, body] = match as unknown as [string, string, string];
      const key = byId.get(keyId);
      if (!key) {
        throw new SecretBoxError(
          `A stored secret is sealed with encryption key ${keyId}, which is neither HOOKFLOW_ENCRYPTION_KEY nor one of HOOKFLOW_ENCRYPTION_KEYS_OLD.`,
        );
      }
      const bytes = Buffer.from(body, 'base64');
      if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError(`A stored secret sealed with key ${keyId} is truncated.`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.bytes, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
        decipher.setAAD(aad(keyId, context));
        decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
        return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretBoxError(`A stored secret sealed with key ${keyId} failed authentication: it was altered, or belongs to another row.`);
      }
    },

    isCurrent(stored) {
      return current ? stored.startsWith(`${PREFIX}${current.id}:`) : !isSealed(stored);
    },
  };
}

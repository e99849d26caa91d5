import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * PEM files named by a setting (TEMPORAL_TLS_CA, DATABASE_URL's sslrootcert, …), read and checked once at
 * start, so a missing, unreadable or garbled file is one sentence naming the setting instead of a TLS
 * error on the first connection. Each function returns the file's bytes or the sentence; src/config.ts
 * turns a sentence into a ConfigError. A private key's content never appears in a sentence.
 */
export type PemFile = { path: string; pem: Buffer };
export type PemResult<T> = { ok: T } | { error: string };

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function read(what: string, path: string): PemResult<PemFile> {
  const absolute = resolve(path);
  try {
    return { ok: { path: absolute, pem: readFileSync(absolute) } };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this process' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? String(err)})`;
    return { error: `${what} names ${absolute}, which ${why}` };
  }
}

/** One or more X.509 certificates (a CA bundle, or a certificate with its chain); the first is returned parsed. */
export function readCertificates(what: string, path: string): PemResult<PemFile & { first: X509Certificate }> {
  const file = read(what, path);
  if ('error' in file) return file;
  const blocks = file.ok.pem.toString('utf8').match(CERTIFICATE_BLOCK) ?? [];
  const parsed: X509Certificate[] = [];
  for (const block of blocks) {
    try {
      parsed.push(new X509Certificate(block));
    } catch {
      return { error: `${what} names ${file.ok.path}, whose certificate number ${parsed.length + 1} is not a valid PEM certificate` };
    }
  }
  if (parsed.length === 0) return { error: `${what} names ${file.ok.path}, which holds no PEM certificate (-----BEGIN CERTIFICATE-----)` };
  return { ok: { ...file.ok, first: parsed[0]! } };
}

/** An unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1). */
export function readPrivateKey(what: string, path: string): PemResult<PemFile & { key: KeyObject }> {
  const file = read(what, path);
  if ('error' in file) return file;
  try {
    return { ok: { ...file.ok, key: createPrivateKey({ key: file.ok.pem, format: 'pem' }) } };
  } catch {
    return { error: `${what} names ${file.ok.path}, which is not an unencrypted PEM private key (its content is not shown)` };
  }
}

/**
 * A client certificate and its key, checked to belong together and to be valid today: a pair that
 * fails either would only be refused by the server, with a vaguer word.
 */
export function readCertificatePair(
  names: { cert: string; key: string },
  paths: { cert: string; key: string },
  now = new Date(),
): PemResult<{ cert: PemFile & { first: X509Certificate }; key: PemFile }> {
  const cert = readCertificates(names.cert, paths.cert);
  if ('error' in cert) return cert;
  const key = readPrivateKey(names.key, paths.key);
  if ('error' in key) return key;
  const certificate = cert.ok.first;
  if (!certificate.checkPrivateKey(key.ok.key)) {
    return { error: `${names.key} (${key.ok.path}) is not the private key of the certificate in ${names.cert} (${cert.ok.path})` };
  }
  if (new Date(certificate.validTo) < now) return { error: `${names.cert} (${cert.ok.path}) expired on ${new Date(certificate.validTo).toISOString()}` };
  if (new Date(certificate.validFrom) > now) return { error: `${names.cert} (${cert.ok.path}) is not valid before ${new Date(certificate.validFrom).toISOString()}` };
  return { ok: { cert: cert.ok, key: { path: key.ok.path, pem: key.ok.pem } } };
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { postgresClientConfig } from '../../src/db/connection';
import { temporalCliEnvironment, temporalConnectionOptions } from '../../src/temporal/connection';
import { makeCa } from '../support/certificates';

/**
 * TEMPORAL_TLS_*, TEMPORAL_API_KEY and DATABASE_URL's TLS, as src/config.ts reads them: every file checked
 * at start, every refusal one sentence naming the setting. Certificates from a CA made with openssl.
 */
const dir = mkdtempSync(join(tmpdir(), 'hookflow-tls-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ca = makeCa(join(dir, 'ca'), 'unit-ca');
const client = ca.issue('client');
const other = ca.issue('other');
const notPem = join(dir, 'not.pem');
writeFileSync(notPem, 'just text\n');

const ADDRESS = { TEMPORAL_ADDRESS: 'temporal.example.com:7233' };
const refusal = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('loadConfig accepted it');
};

describe('TEMPORAL_TLS_*', () => {
  it('is off unless a TLS setting or an API key is given', () => {
    expect(loadConfig(ADDRESS).temporal).toMatchObject({ tls: undefined, apiKey: undefined });
    expect(loadConfig({ ...ADDRESS, TEMPORAL_TLS: 'true' }).temporal.tls).toEqual({ ca: undefined, client: undefined, serverName: undefined });
    expect(loadConfig({ ...ADDRESS, TEMPORAL_API_KEY: 'key' }).temporal).toMatchObject({ tls: { ca: undefined }, apiKey: 'key' });
    // An API key in plaintext, said in so many words (a local proxy adds the TLS).
    expect(loadConfig({ ...ADDRESS, TEMPORAL_API_KEY: 'key', TEMPORAL_TLS: 'false' }).temporal).toMatchObject({ tls: undefined, apiKey: 'key' });
  });

  it('reads the CA, the client certificate and its key, and the server name', () => {
    const { tls } = loadConfig({ ...ADDRESS, TEMPORAL_TLS_CA: ca.cert, TEMPORAL_TLS_CERT: client.cert, TEMPORAL_TLS_KEY: client.key, TEMPORAL_TLS_SERVER_NAME: 'frontend.internal' }).temporal;
    expect(tls?.ca?.path).toBe(ca.cert);
    expect(tls?.ca?.pem.toString()).toContain('BEGIN CERTIFICATE');
    expect(tls?.client?.cert.path).toBe(client.cert);
    expect(tls?.serverName).toBe('frontend.internal');
  });

  it("takes the Temporal CLI's newer names for the files when hookflow's are unset, and refuses two different ones", () => {
    const { tls } = loadConfig({ ...ADDRESS, TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.cert, TEMPORAL_TLS_CLIENT_CERT_PATH: client.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: client.key }).temporal;
    expect([tls?.ca?.path, tls?.client?.cert.path, tls?.client?.key.path]).toEqual([ca.cert, client.cert, client.key]);
    expect(refusal({ ...ADDRESS, TEMPORAL_TLS_CA: ca.cert, TEMPORAL_TLS_SERVER_CA_CERT_PATH: client.cert })).toBe(
      "Invalid configuration: TEMPORAL_TLS_CA and TEMPORAL_TLS_SERVER_CA_CERT_PATH (the Temporal CLI's name for it) name different files; set one of them",
    );
  });

  it('stops start-up with a sentence naming the variable when a file is missing, unreadable or not PEM', () => {
    expect(refusal({ ...ADDRESS, TEMPORAL_TLS_CA: join(dir, 'missing.pem') })).toBe(`Invalid configuration: TEMPORAL_TLS_CA names ${join(dir, 'missing.pem')}, which does not exist`);
    expect(refusal({ ...ADDRESS, TEMPORAL_TLS_CA: dir })).toBe(`Invalid configuration: TEMPORAL_TLS_CA names ${dir}, which is a directory`);
    expect(refusal({ ...ADDRESS, TEMPORAL_TLS_CA: notPem })).toBe(`Invalid configuration: TEMPORAL_TLS_CA names ${notPem}, which holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    expect(refusal({ ...ADDRESS, TEMPORAL_TLS_CERT: client.cert, TEMPORAL_TLS_KEY: notPem })).toBe(
      `Invalid configuration: TEMPORAL_TLS_KEY names ${notPem}, which is not an unencrypted PEM private key (its content is not shown)`,
    );
    expect(refusal({ ...ADDRESS, TEMPORAL_TLS_CERT: client.key, TEMPORAL_TLS_KEY: client.key })).toMatch(/^Invalid configuration: TEMPORAL_TLS_CERT names .*client\.key, which holds no PEM certificate/);
  });

  it('refuses a certificate without its key, a key of another certificate, and contradictions', () => {
    expect(refusal({ ...ADDRESS, TEMPORAL_TLS_CERT: client.cert })).toBe('Invalid configuration: TEMPORAL_TLS_CERT is set without TEMPORAL_TLS_KEY: a client certificate needs both');
    expect(refusal({ ...ADDRESS, TEMPORAL_TLS_CERT: client.cert, TEMPORAL_TLS_KEY: other.key })).toBe(
      `Invalid configuration: TEMPORAL_TLS_KEY (${other.key}) is not the private key of the certificate in TEMPORAL_TLS_CERT (${client.cert})`,
    );
    expect(refusal({ ...ADDRESS, TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: ca.cert })).toBe('Invalid configuration: TEMPORAL_TLS=false, yet TEMPORAL_TLS_CA is set; unset them, or TEMPORAL_TLS');
    expect(refusal({ TEMPORAL_TLS_CA: ca.cert })).toMatch(/^Invalid configuration: TEMPORAL_TLS_CA applies to TEMPORAL_ADDRESS, which is unset/);
    expect(refusal({ ...ADDRESS, TEMPORAL_TLS: 'maybe' })).toMatch(/^Invalid configuration: TEMPORAL_TLS must be true or false/);
  });

  it('builds the same connection for every process, and the same settings for the CLIs', () => {
    const { temporal } = loadConfig({ ...ADDRESS, TEMPORAL_TLS_CA: ca.cert, TEMPORAL_TLS_CERT: client.cert, TEMPORAL_TLS_KEY: client.key, TEMPORAL_TLS_SERVER_NAME: 'frontend.internal', TEMPORAL_API_KEY: 'key' });
    const options = temporalConnectionOptions(temporal, 'temporal.example.com:7233');
    expect(options).toMatchObject({ address: 'temporal.example.com:7233', apiKey: 'key', tls: { serverNameOverride: 'frontend.internal' } });
    expect(options.tls && options.tls.clientCertPair?.crt.toString()).toContain('BEGIN CERTIFICATE');
    // Without TLS the SDK must not turn it on by itself for an API key.
    expect(temporalConnectionOptions(loadConfig({ ...ADDRESS, TEMPORAL_API_KEY: 'key', TEMPORAL_TLS: 'false' }).temporal, 'x:1').tls).toBe(false);
    expect(temporalCliEnvironment(temporal)).toMatchObject({
      TEMPORAL_TLS: 'true',
      TEMPORAL_API_KEY: 'key',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.cert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: client.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: client.key,
      TEMPORAL_TLS_SERVER_NAME: 'frontend.internal',
      TEMPORAL_CLI_TLS_CA: ca.cert,
    });
    expect(temporalCliEnvironment(loadConfig(ADDRESS).temporal)).toEqual({ TEMPORAL_TLS: 'false' });
  });
});

describe("DATABASE_URL's TLS", () => {
  const base = 'postgres://hookflow:secret@db.example.com:5432/hookflow';
  const ssl = (url: string) => postgresClientConfig(loadConfig({ DATABASE_URL: url }).databaseUrl!).ssl;

  it('means what libpq means by each sslmode, whatever node-postgres would make of it', () => {
    expect(ssl(base)).toBe(false);
    expect(ssl(`${base}?sslmode=disable&sslrootcert=${ca.cert}`)).toBe(false);
    expect(ssl(`${base}?sslmode=require`)).toEqual({ rejectUnauthorized: false });
    const verifyCa = ssl(`${base}?sslmode=verify-ca&sslrootcert=${ca.cert}`) as { ca: Buffer; checkServerIdentity: () => undefined };
    expect(verifyCa.ca.toString()).toContain('BEGIN CERTIFICATE');
    expect(verifyCa.checkServerIdentity()).toBeUndefined();
    // require with a CA is libpq's verify-ca.
    expect(Object.keys(ssl(`${base}?sslmode=require&sslrootcert=${ca.cert}`) as object).sort()).toEqual(['ca', 'checkServerIdentity']);
    expect(Object.keys(ssl(`${base}?sslmode=verify-full&sslrootcert=${ca.cert}`) as object)).toEqual(['ca']);
    expect(ssl(`${base}?sslmode=verify-full`)).toEqual({});
    expect(ssl(`${base}?sslmode=verify-full&sslrootcert=system`)).toEqual({});
    expect(Object.keys(ssl(`${base}?sslmode=verify-full&sslcert=${client.cert}&sslkey=${client.key}`) as object).sort()).toEqual(['cert', 'key']);
  });

  it('hands node-postgres the URL without its TLS parameters, which would override the ssl object', () => {
    const config = postgresClientConfig(`${base}?sslmode=verify-full&sslrootcert=${ca.cert}&application_name=hookflow`);
    expect(config.connectionString).toBe(`${base}?application_name=hookflow`);
  });

  it('folds in PGSSLMODE, PGSSLROOTCERT, PGSSLCERT and PGSSLKEY where the URL says nothing', () => {
    expect(loadConfig({ DATABASE_URL: base, PGSSLMODE: 'verify-full', PGSSLROOTCERT: ca.cert }).databaseUrl).toBe(`${base}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca.cert)}`);
    expect(loadConfig({ DATABASE_URL: `${base}?sslmode=require`, PGSSLMODE: 'verify-full' }).databaseUrl).toBe(`${base}?sslmode=require`);
  });

  it('refuses what it cannot honour, naming the setting', () => {
    expect(refusal({ DATABASE_URL: `${base}?sslmode=prefer` })).toMatch(/^Invalid configuration: DATABASE_URL's sslmode is prefer, which falls back to plaintext/);
    expect(refusal({ DATABASE_URL: base, PGSSLMODE: 'allow' })).toMatch(/^Invalid configuration: PGSSLMODE is allow/);
    expect(refusal({ DATABASE_URL: `${base}?sslmode=verify-ca` })).toMatch(/^Invalid configuration: DATABASE_URL's sslmode is verify-ca, which needs the CA/);
    expect(refusal({ DATABASE_URL: `${base}?sslmode=require&sslrootcert=system` })).toMatch(/^Invalid configuration: DATABASE_URL's sslrootcert is system, which needs sslmode=verify-full/);
    expect(refusal({ DATABASE_URL: `${base}?sslmode=verify-full&sslcert=${client.cert}` })).toBe("Invalid configuration: DATABASE_URL's sslcert is set without DATABASE_URL's sslkey: a client certificate needs both");
    expect(refusal({ DATABASE_URL: `${base}?sslmode=verify-full`, PGSSLROOTCERT: join(dir, 'missing.pem') })).toBe(`Invalid configuration: PGSSLROOTCERT names ${join(dir, 'missing.pem')}, which does not exist`);
    expect(refusal({ DATABASE_URL: `${base}?sslmode=verify-full&sslrootcert=${notPem}` })).toBe(`Invalid configuration: DATABASE_URL's sslrootcert names ${notPem}, which holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    expect(refusal({ DATABASE_URL: `${base}?sslmode=sometimes` })).toBe("Invalid configuration: DATABASE_URL's sslmode must be one of disable, require, verify-ca, verify-full, not \"sometimes\"");
  });
});

import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import { readCertificatePair, readCertificates, type PemFile, type PemResult } from '../lib/pem';
import { explainTlsRefusal } from '../lib/tls-refusal';

/**
 * TLS to Postgres from DATABASE_URL's `sslmode`, `sslrootcert`, `sslcert` and `sslkey`, meaning what they
 * mean to libpq (psql, and the Temporal server's lib/pq), not what node-postgres 8 makes of them: it
 * reads `require` and `verify-ca` as verify-full, and lets those parameters in a connection string
 * override any `ssl` object handed beside it. So hookflow takes them out of the string and hands
 * node-postgres an `ssl` object of its own:
 *
 *   disable      no TLS
 *   require      TLS, nothing verified; with sslrootcert, the chain is verified (libpq's verify-ca)
 *   verify-ca    TLS, the chain verified against sslrootcert (required), not the host name
 *   verify-full  TLS, the chain verified against sslrootcert (or the system's CAs: absent or `system`)
 *                and the host name against the certificate
 *   (none)       no TLS; with sslrootcert, sslcert or sslkey, verify-full (as node-postgres does)
 *
 * `allow` and `prefer` fall back to plaintext when TLS fails, which node-postgres cannot do; they are refused.
 */
export type PostgresTlsMode = 'require' | 'verify-ca' | 'verify-full';
export type PostgresTls = {
  mode: PostgresTlsMode;
  /** The CA to verify against; undefined = none (require) or the system's (verify-full). */
  ca: PemFile | undefined;
  client: { cert: PemFile; key: PemFile } | undefined;
};

const TLS_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'uselibpqcompat'] as const;
const MODES = ['disable', 'require', 'verify-ca', 'verify-full'];

/** `param` → the setting it came from, for sentences: DATABASE_URL's own, or PGSSLROOTCERT and its kin. */
export type ParamOrigin = (param: 'sslmode' | 'sslrootcert' | 'sslcert' | 'sslkey') => string;
const fromUrl: ParamOrigin = (param) => `DATABASE_URL's ${param}`;

/** The TLS a connection string asks for, its files read and checked; undefined = none. */
export function postgresTls(connectionString: string, origin: ParamOrigin = fromUrl): PemResult<PostgresTls | undefined> {
  const params = searchParams(connectionString);
  const get = (name: string) => params.get(name) ?? undefined;
  const rootCert = get('sslrootcert');
  const [cert, key] = [get('sslcert'), get('sslkey')];
  const ssl = get('ssl');
  let mode = get('sslmode');
  // node-postgres' own `ssl=true|1|false|0` stands in for an absent sslmode.
  if (mode === undefined && ssl !== undefined) mode = ['true', '1'].includes(ssl) ? 'verify-full' : ['false', '0'].includes(ssl) ? 'disable' : undefined;
  if (mode === undefined) mode = rootCert || cert || key ? 'verify-full' : 'disable';
  if (mode === 'allow' || mode === 'prefer') {
    return { error: `${origin('sslmode')} is ${mode}, which falls back to plaintext when TLS fails; node-postgres cannot, so say what you mean: disable, require, verify-ca or verify-full` };
  }
  if (!MODES.includes(mode)) return { error: `${origin('sslmode')} must be one of ${MODES.join(', ')}, not "${mode}"` };
  if (mode === 'disable') return { ok: undefined };

  let ca: PemFile | undefined;
  if (rootCert === 'system') {
    // libpq 16: the system's CAs, and only with full verification (anyone can buy a certificate from a public CA).
    if (mode !== 'verify-full') return { error: `${origin('sslrootcert')} is system, which needs sslmode=verify-full (a public CA vouches for anyone's server), not ${mode}` };
  } else if (rootCert !== undefined) {
    const read = readCertificates(origin('sslrootcert'), rootCert);
    if ('error' in read) return read;
    ca = { path: read.ok.path, pem: read.ok.pem };
  } else if (mode === 'verify-ca') {
    return { error: `${origin('sslmode')} is verify-ca, which needs the CA to verify against: set sslrootcert in DATABASE_URL, or PGSSLROOTCERT` };
  }

  let client: PostgresTls['client'];
  if (cert !== undefined || key !== undefined) {
    if (cert === undefined || key === undefined) return { error: `${origin(cert === undefined ? 'sslkey' : 'sslcert')} is set without ${origin(cert === undefined ? 'sslcert' : 'sslkey')}: a client certificate needs both` };
    const pair = readCertificatePair({ cert: origin('sslcert'), key: origin('sslkey') }, { cert, key });
    if ('error' in pair) return pair;
    client = { cert: pair.ok.cert, key: pair.ok.key };
  }
  return { ok: { mode: mode as PostgresTlsMode, ca, client } };
}

function searchParams(connectionString: string): URLSearchParams {
  try {
    return new URL(connectionString).searchParams;
  } catch {
    return new URLSearchParams();
  }
}

/**
 * What node-postgres (pg.Pool, pg.Client, node-pg-migrate) is given for a connection string: the string
 * without its TLS parameters, and the `ssl` they mean. Files are read again here, so a certificate
 * replaced on disk is used by the next pool a process makes. Throws when the string's TLS is invalid;
 * src/config.ts has refused such a DATABASE_URL with a sentence before anything gets here.
 */
export function postgresClientConfig(connectionString: string): pg.ClientConfig {
  const tls = postgresTls(connectionString);
  if ('error' in tls) throw new Error(tls.error);
  let stripped = connectionString;
  try {
    const url = new URL(connectionString);
    for (const param of TLS_PARAMS) url.searchParams.delete(param);
    stripped = url.toString();
  } catch {
    // Not a URL (a Unix socket path): node-postgres reads it as it is; it cannot hold TLS parameters.
  }
  return { connectionString: stripped, ssl: tls.ok ? sslOptions(tls.ok) : false };
}

function sslOptions(tls: PostgresTls): ConnectionOptions {
  const client = tls.client ? { cert: tls.client.cert.pem, key: tls.client.key.pem } : {};
  // libpq's require without a CA verifies nothing; with one, it is verify-ca.
  if (tls.mode === 'require' && !tls.ca) return { rejectUnauthorized: false, ...client };
  const ca = tls.ca ? { ca: tls.ca.pem } : {};
  // verify-ca: the chain, not the name (an empty check lets any name pass).
  if (tls.mode !== 'verify-full') return { ...ca, checkServerIdentity: () => undefined, ...client };
  return { ...ca, ...client };
}

/** A TLS refusal of the Postgres in a connection string, as one sentence naming what to change; undefined for other errors. */
export function explainPostgresRefusal(err: unknown, connectionString: string): string | undefined {
  const tls = postgresTls(connectionString);
  if ('error' in tls || !tls.ok) return undefined;
  const url = new URL(connectionString);
  return explainTlsRefusal(err, {
    server: `Postgres at ${url.host}`,
    ca: tls.ok.ca ? `the CA in sslrootcert (${tls.ok.ca.path})` : undefined,
    caSetting: 'set sslrootcert in DATABASE_URL, or PGSSLROOTCERT, to the CA that signed it',
    name: url.hostname,
    nameSetting: 'DATABASE_URL must name the host as its certificate does',
    clientCert: tls.ok.client ? `sslcert (${tls.ok.client.cert.path})` : undefined,
    clientCertSetting: 'set sslcert and sslkey in DATABASE_URL, or PGSSLCERT and PGSSLKEY',
  });
}

import type { PeerCertificate } from 'node:tls';

/** What a refusal sentence names: the server, and the settings an operator would change. */
export type TlsSettings = {
  /** `Temporal at temporal.example:7233`, `Postgres at db.example:5432`. */
  server: string;
  /** Who vouches for the server: `TEMPORAL_TLS_CA (/etc/ca.pem)`; undefined = the CAs Node trusts. */
  ca: string | undefined;
  /** How to name a CA of one's own: `set TEMPORAL_TLS_CA to the CA that signed it`. */
  caSetting: string;
  /** The name the certificate must hold, and the setting that changes it. */
  name: string;
  nameSetting: string;
  /** The client certificate presented, as `TEMPORAL_TLS_CERT (/etc/client.pem)`; undefined = none. */
  clientCert: string | undefined;
  /** How to present one: `set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY`. */
  clientCertSetting: string;
};

/** The server's certificate chain does not lead to a trusted CA (OpenSSL's verify codes, as Node reports them). */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
  'INVALID_CA',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
/** TLS alerts a server sends about the client's certificate (none sent, or one it does not accept). */
const CLIENT_CERT_ALERTS = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
]);
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);

/**
 * Why a TLS connection failed, as one sentence naming the setting to change, or undefined when the
 * error is not a TLS refusal (a refused connection, a timeout). Decided by the error's code — Node's and
 * OpenSSL's — never by its message, which only follows in parentheses.
 */
export function explainTlsRefusal(err: unknown, s: TlsSettings): string | undefined {
  const e = err as (Error & { code?: string; cert?: PeerCertificate }) | undefined;
  const code = e?.code;
  if (!code) return undefined;
  // OpenSSL's text for an alert is a line of internals; the alert's name says it.
  const alert = /^ERR_SSL_(?:TLSV13_|TLSV1_|SSLV3_)?ALERT_(.+)$/.exec(code)?.[1];
  const detail = alert ? ` (TLS alert: ${alert.toLowerCase().replace(/_/g, ' ')})` : e.message ? ` (${e.message})` : '';
  if (UNTRUSTED.has(code)) {
    return s.ca === undefined
      ? `${s.server} presented a certificate that none of the CAs Node trusts vouches for: ${s.caSetting}${detail}`
      : `${s.server} presented a certificate that ${s.ca} does not vouch for${detail}`;
  }
  if (EXPIRED.has(code)) return `${s.server} presented a certificate that is expired or not yet valid${detail}`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = e.cert?.subjectaltname ?? (e.cert?.subject?.CN ? `CN=${String(e.cert.subject.CN)}` : 'other names');
    return `${s.server} presented a certificate for ${names}, not for "${s.name}": ${s.nameSetting}`;
  }
  if (CLIENT_CERT_ALERTS.has(code)) {
    return s.clientCert === undefined
      ? `${s.server} requires a client certificate: ${s.clientCertSetting}${detail}`
      : `${s.server} refused the client certificate in ${s.clientCert}: it does not trust the CA that signed it, or the certificate is not valid for it${detail}`;
  }
  if (NOT_TLS.has(code)) return `${s.server} does not answer in TLS: check the address, or turn TLS off for it${detail}`;
  return undefined;
}

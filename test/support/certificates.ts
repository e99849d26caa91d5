import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A certificate authority made for one test with `openssl` (Node's crypto makes keys, not certificates),
 * and certificates it signs: servers' (names in subjectAltName) and clients'. P-256 keys, valid for a day.
 */
export type Issued = { cert: string; key: string };
export type TestCa = Issued & { dir: string; issue(name: string, o?: { dns?: string[]; ips?: string[] }): Issued };

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export function makeCa(dir: string, name: string): TestCa {
  mkdirSync(dir, { recursive: true });
  const ca = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', ca.key, '-out', ca.cert, '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  let serial = 1;
  return {
    ...ca,
    dir,
    issue(leaf, o = {}) {
      const out = { cert: join(dir, `${leaf}.pem`), key: join(dir, `${leaf}.key`) };
      const csr = join(dir, `${leaf}.csr`);
      const extensions = join(dir, `${leaf}.ext`);
      const altNames = [...(o.dns ?? []).map((d) => `DNS:${d}`), ...(o.ips ?? []).map((ip) => `IP:${ip}`)];
      writeFileSync(
        extensions,
        ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth', ...(altNames.length ? [`subjectAltName=${altNames.join(',')}`] : [])].join('\n'),
      );
      openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', out.key, '-out', csr, '-subj', `/CN=${leaf}`]);
      openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(serial++), '-out', out.cert, '-days', '1', '-extfile', extensions]);
      return out;
    },
  };
}

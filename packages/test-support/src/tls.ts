/** TLS material for tests: a throwaway certificate made with the system's openssl. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a self-signed P-256 certificate for `127.0.0.1` (CN `localhost`, valid one day) and its
 * key to `dir/cert.pem` and `dir/key.pem`.
 *
 * @example
 * ```ts
 * const { certFile, keyFile } = selfSignedCertificate(dir);
 * ```
 */
export function selfSignedCertificate(dir: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}

/** What a test certificate should look like. */
export interface TestCertificateSpec {
  /** File name stem: `<name>.pem`, `<name>.key`. */
  readonly name: string;
  /** Subject alternative names: host names and IP addresses (default `127.0.0.1`, `localhost`). */
  readonly hosts?: readonly string[];
  /** Default `ec` (P-256). */
  readonly key?: 'ec' | 'rsa2048' | 'rsa1024';
  /** Default `sha256`. */
  readonly digest?: 'sha256' | 'sha1';
  /** Default one day ago. */
  readonly notBefore?: Date;
  /** Default ninety days from now. */
  readonly notAfter?: Date;
  /** Default false: signed by the test CA. True: self-signed. */
  readonly selfSigned?: boolean;
}

/** A test certificate authority and the certificates it issued. */
export interface TestPki {
  /** The CA certificate (PEM file). */
  readonly caFile: string;
  /** Issues a certificate (and its key) as the spec says. */
  issue(spec: TestCertificateSpec): { certFile: string; keyFile: string };
}

const KEY_ARGS = {
  ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  rsa2048: ['-newkey', 'rsa:2048'],
  rsa1024: ['-newkey', 'rsa:1024'],
} as const;

/** `YYYYMMDDHHMMSSZ`, the form `openssl ca -startdate/-enddate` takes. */
const asn1Time = (date: Date) => `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

/**
 * Creates a throwaway CA in `dir` (with `openssl ca`, which can set any validity window, so
 * expired and not-yet-valid certificates are possible) and issues certificates from it.
 *
 * @example
 * ```ts
 * const pki = createTestPki(dir);
 * const expired = pki.issue({ name: 'expired', notAfter: new Date(Date.now() - 86_400_000) });
 * ```
 */
export function createTestPki(dir: string): TestPki {
  const run = (args: readonly string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  run([
    'req',
    '-x509',
    ...KEY_ARGS.ec,
    '-nodes',
    '-days',
    '3650',
    '-subj',
    '/CN=custos test CA',
    '-addext',
    'basicConstraints=critical,CA:true',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    caKey,
    '-out',
    caFile,
  ]);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  const config = join(dir, 'ca.cnf');
  writeFileSync(
    config,
    [
      '[ca]',
      'default_ca = test',
      '[test]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'new_certs_dir = $dir',
      'policy = anything',
      'unique_subject = no',
      'copy_extensions = none',
      '[anything]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  return {
    caFile,
    issue(spec) {
      const certFile = join(dir, `${spec.name}.pem`);
      const keyFile = join(dir, `${spec.name}.key`);
      const csr = join(dir, `${spec.name}.csr`);
      const ext = join(dir, `${spec.name}.ext`);
      const hosts = spec.hosts ?? ['127.0.0.1', 'localhost'];
      const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
      writeFileSync(
        ext,
        [
          'basicConstraints = critical,CA:false',
          'keyUsage = critical,digitalSignature,keyEncipherment',
          'extendedKeyUsage = serverAuth,clientAuth',
          ...(san === '' ? [] : [`subjectAltName = ${san}`]),
          '',
        ].join('\n'),
      );
      run([
        'req',
        '-new',
        ...KEY_ARGS[spec.key ?? 'ec'],
        '-nodes',
        '-subj',
        `/CN=${hosts[0] ?? spec.name}`,
        '-keyout',
        keyFile,
        '-out',
        csr,
      ]);
      const notBefore = spec.notBefore ?? new Date(Date.now() - 86_400_000);
      const notAfter = spec.notAfter ?? new Date(Date.now() + 90 * 86_400_000);
      run([
        'ca',
        '-batch',
        '-config',
        config,
        '-notext',
        '-in',
        csr,
        '-out',
        certFile,
        '-md',
        spec.digest ?? 'sha256',
        '-extfile',
        ext,
        '-startdate',
        asn1Time(notBefore),
        '-enddate',
        asn1Time(notAfter),
        ...(spec.selfSigned
          ? ['-selfsign', '-keyfile', keyFile]
          : ['-cert', caFile, '-keyfile', caKey]),
      ]);
      return { certFile, keyFile };
    },
  };
}

/** TLS material for tests: a throwaway certificate made with the system's openssl. */
import { execFileSync } from 'node:child_process';
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

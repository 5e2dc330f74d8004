import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';
import { CustosError } from '../errors/index.js';
import { nodeTls } from './node-tls.js';
import {
  type ClientCertificates,
  resolveMinVersion,
  type TlsMinVersion,
  type TlsSettings,
  tlsSettingsFromEnv,
} from './tls-settings.js';

/** Options for `https.createServer`, `tls.createServer` or `server.setSecureContext`. */
export interface TlsServerOptions extends TlsOptions {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  readonly minVersion: TlsMinVersion;
  readonly ciphers?: string;
  readonly honorCipherOrder: true;
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
}

// Broken or unauthenticated ciphers a list may not switch on (OpenSSL 3 already drops RC4 and 3DES).
const BROKEN_CIPHER = /(^|[-_])(NULL|eNULL|aNULL|EXPORT|EXP|RC4|DES|3DES|MD5|anon)([-_]|$)/i;

function fail(message: string): never {
  throw new CustosError('ERR_TLS_CONFIG', message);
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    // A path is configuration, not a secret; the file's content never appears.
    return fail(
      `cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
}

/**
 * Checks a cipher list: OpenSSL must match at least one cipher, and no entry may switch on a
 * broken or unauthenticated one (`!aNULL`-style exclusions are fine).
 * @internal
 */
export function checkCipherList(ciphers: string): void {
  for (const entry of ciphers.split(/[:,\s]+/)) {
    if (entry === '' || /^[!-]/.test(entry)) continue;
    if (BROKEN_CIPHER.test(entry))
      fail(`ciphers: "${entry}" is a broken or unauthenticated cipher`);
  }
  try {
    nodeTls.createSecureContext({ ciphers });
  } catch {
    fail('ciphers: OpenSSL matches no cipher in the list (see `openssl ciphers -v <list>`)');
  }
}

/**
 * Checks that the private key opens and belongs to the first certificate of the chain.
 * @internal
 */
export function checkKeyPair(cert: Buffer, key: Buffer, certPath: string, keyPath: string): void {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    fail(`the certificate ${certPath} is not a PEM or DER certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // The reason is left out: OpenSSL's may quote key material.
    fail(`the private key ${keyPath} cannot be read (not an unencrypted PEM or DER private key)`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    fail(`the private key ${keyPath} does not match the certificate ${certPath}`);
  }
}

/**
 * Options for a TLS or HTTPS server: certificate and key (checked to match), minimum TLS 1.2
 * (or 1.3), the cipher list (checked), and client certificates against `caPath`. Without
 * settings they come from the environment ({@link tlsSettingsFromEnv}). Everything is read and
 * checked now, so a bad setting stops the start with `ERR_TLS_CONFIG` naming it.
 *
 * @example
 * ```ts
 * import https from 'node:https';
 * import { tlsServerOptions } from '@custos/core/tls';
 * const server = https.createServer(tlsServerOptions(), app); // SSL_CERT_PATH, SSL_KEY_PATH …
 * ```
 */
export function tlsServerOptions(settings: TlsSettings = tlsSettingsFromEnv()): TlsServerOptions {
  if (typeof settings?.certPath !== 'string' || typeof settings.keyPath !== 'string') {
    fail('certPath and keyPath must be file paths');
  }
  const minVersion = resolveMinVersion(settings.minVersion);
  if (settings.ciphers !== undefined) checkCipherList(settings.ciphers);
  const clientCertificates: ClientCertificates =
    settings.clientCertificates ?? (settings.caPath === undefined ? 'off' : 'optional');
  if (!['off', 'optional', 'required'].includes(clientCertificates)) {
    fail('clientCertificates must be off, optional or required');
  }
  if (clientCertificates !== 'off' && settings.caPath === undefined) {
    fail('client certificates need a CA bundle (caPath, SSL_CA_PATH)');
  }
  const cert = readPem(settings.certPath, 'certificate');
  const key = readPem(settings.keyPath, 'private key');
  checkKeyPair(cert, key, settings.certPath, settings.keyPath);
  const ca = settings.caPath === undefined ? undefined : readPem(settings.caPath, 'CA bundle');
  const options: TlsServerOptions = {
    cert,
    key,
    minVersion,
    honorCipherOrder: true,
    requestCert: clientCertificates !== 'off',
    rejectUnauthorized: clientCertificates === 'required',
    ...(ca === undefined ? {} : { ca }),
    ...(settings.ciphers === undefined ? {} : { ciphers: settings.ciphers }),
  };
  try {
    nodeTls.createSecureContext(options);
  } catch {
    fail(`OpenSSL refuses the certificate ${settings.certPath} with its key or CA bundle`);
  }
  return options;
}

import { CustosError } from '../errors/index.js';
import { readSettings, type SettingsEnv, textSetting } from '../lib/env-settings.js';
import { secret } from '../secrets/schema.js';

/** The TLS versions custos accepts as a minimum. */
export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

/** Whether a TLS server asks clients for a certificate (needs `caPath`). */
export type ClientCertificates = 'off' | 'optional' | 'required';

/** Where a TLS server's material lives and how it negotiates. */
export interface TlsSettings {
  /** PEM certificate (chain: the leaf first, then intermediates). */
  readonly certPath: string;
  /** PEM private key of the certificate. */
  readonly keyPath: string;
  /** PEM bundle of the CAs that sign client certificates. */
  readonly caPath?: string;
  /** Default `TLSv1.2`; anything lower is refused. */
  readonly minVersion?: string;
  /** OpenSSL cipher list (TLS 1.3 suites included); default Node's list. */
  readonly ciphers?: string;
  /** Default `optional` with `caPath`, `off` without. */
  readonly clientCertificates?: ClientCertificates;
}

const VERSIONS: Readonly<Record<string, TlsMinVersion>> = {
  'TLSv1.2': 'TLSv1.2',
  '1.2': 'TLSv1.2',
  'TLSv1.3': 'TLSv1.3',
  '1.3': 'TLSv1.3',
};
const TOO_OLD = ['TLSv1', 'TLSv1.0', 'TLSv1.1', '1.0', '1.1', 'SSLv3'];

/**
 * Why a minimum TLS version is refused, or undefined. TLS 1.0 and 1.1 are broken (RFC 8996).
 * @internal
 */
export function minVersionProblem(version: string): string | undefined {
  if (Object.hasOwn(VERSIONS, version)) return undefined;
  if (TOO_OLD.includes(version))
    return 'TLS below 1.2 is refused (RFC 8996): use TLSv1.2 or TLSv1.3';
  return 'must be TLSv1.2 or TLSv1.3';
}

/**
 * The minimum version in Node's spelling; throws `ERR_TLS_CONFIG` below TLS 1.2.
 * @internal
 */
export function resolveMinVersion(
  version: string | undefined,
  field = 'minVersion',
): TlsMinVersion {
  if (version === undefined) return 'TLSv1.2';
  const problem = minVersionProblem(version);
  if (problem !== undefined) throw new CustosError('ERR_TLS_CONFIG', `${field}: ${problem}`);
  return VERSIONS[version] as TlsMinVersion;
}

/**
 * TLS settings from the environment: `SSL_CERT_PATH`, `SSL_KEY_PATH` (required), `SSL_CA_PATH`,
 * `TLS_MIN_VERSION` (`TLSv1.2` or `TLSv1.3`), `TLS_CIPHERS`. Throws `ERR_SECRETS_INVALID` listing
 * every bad variable.
 *
 * @example
 * ```ts
 * const server = https.createServer(tlsServerOptions(tlsSettingsFromEnv()), app);
 * ```
 */
export function tlsSettingsFromEnv(env: SettingsEnv = process.env): TlsSettings {
  const settings = readSettings(
    {
      SSL_CERT_PATH: secret({ sensitive: false }),
      SSL_KEY_PATH: secret({ sensitive: false }),
      SSL_CA_PATH: textSetting(),
      TLS_MIN_VERSION: textSetting(),
      TLS_CIPHERS: textSetting(),
    },
    env,
  );
  const minVersion = settings.text('TLS_MIN_VERSION');
  const problem = minVersion === undefined ? undefined : minVersionProblem(minVersion);
  if (problem !== undefined) settings.problem('TLS_MIN_VERSION', problem);
  settings.done();
  const optional = (key: keyof TlsSettings, name: string) => {
    const value = settings.text(name);
    return value === undefined ? {} : { [key]: value };
  };
  return {
    certPath: settings.text('SSL_CERT_PATH') as string,
    keyPath: settings.text('SSL_KEY_PATH') as string,
    ...optional('caPath', 'SSL_CA_PATH'),
    ...optional('minVersion', 'TLS_MIN_VERSION'),
    ...optional('ciphers', 'TLS_CIPHERS'),
  };
}

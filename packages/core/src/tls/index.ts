/**
 * TLS for servers and connections: `tlsServerOptions()` from `TLS_MIN_VERSION`, `TLS_CIPHERS`,
 * `SSL_CERT_PATH`, `SSL_KEY_PATH`, `SSL_CA_PATH` (minimum TLS 1.2, checked cipher list, key
 * matched to its certificate), certificate reload on SIGHUP; certificate and endpoint checks
 * (`custos cert check`, `custos tls check`). Guide: `docs/transport.md`.
 *
 * @example
 * ```ts
 * import https from 'node:https';
 * import { reloadTlsOnSighup, tlsServerOptions, tlsSettingsFromEnv } from '@custos/core/tls';
 * const settings = tlsSettingsFromEnv();
 * const server = https.createServer(tlsServerOptions(settings), app);
 * reloadTlsOnSighup(server, settings);
 * ```
 * @module
 */
export type { CertificateSummary, CheckResult } from './certificate-checks.js';
export {
  type CertificateFileCheckOptions,
  type CertificateReport,
  checkCertificateFile,
} from './certificate-file-check.js';
export {
  type ConnectionTls,
  type PgConnectionOptions,
  pgConnectionOptions,
  pgConnectionOptionsFromUrl,
  type RedisConnectionOptions,
  redisConnectionOptions,
} from './database-connections.js';
export {
  checkTlsEndpoint,
  type TlsEndpointCheckOptions,
  type TlsEndpointReport,
} from './endpoint-check.js';
export { reloadTlsOnSighup, type TlsReloader, type TlsReloadOptions } from './reload.js';
export { type TlsServerOptions, tlsServerOptions } from './server-options.js';
export {
  type ClientCertificates,
  type TlsMinVersion,
  type TlsSettings,
  tlsSettingsFromEnv,
} from './tls-settings.js';

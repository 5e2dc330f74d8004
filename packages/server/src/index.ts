/**
 * `@custos/server`: the sealed secret store and encryption-as-a-service server, speaking a
 * compatible subset of the HashiCorp Vault HTTP API (see `docs/server-api.md`).
 *
 * @example
 * ```ts
 * import { startServer } from '@custos/server';
 * const server = await startServer({ dev: { rootTokenId: 'root' } });
 * ```
 * @module
 */
export {
  sendTestAlert,
  type TestAlertOptions,
  type TestDelivery,
} from './alerts/test-alert.js';
export type { ServerTlsOptions } from './app/build-app.js';
export {
  type AuditVerification,
  type VerifyOptions,
  verifyAuditLog,
} from './audit/audit-verify.js';
export {
  type AuditFileInput,
  type AuditSetVerification,
  type FileVerification,
  type RetentionRecord,
  type VerifyFilesOptions,
  verifyAuditFiles,
} from './audit/audit-verify-files.js';
export type {
  PasswordSource,
  RotationConfig,
  RotationDatabaseConfig,
} from './config/rotation-config.js';
export {
  type AuditSinkConfig,
  parseListen,
  parseServerConfig,
  readServerConfig,
  type ServerConfig,
  type ServerTlsConfig,
} from './config/server-config.js';
export { builtInRotators } from './rotation/built-in-rotators.js';
export type {
  PendingContext,
  RetireContext,
  RotationContext,
  Rotator,
} from './rotation/rotator.js';
export { RotatorRegistry } from './rotation/rotator.js';
export {
  type RunningServer,
  type StartOptions,
  startServer,
  type TelemetryOptions,
} from './server.js';
export { serverVersion } from './version.js';

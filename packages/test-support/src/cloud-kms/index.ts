/**
 * Local HTTPS stand-ins of the cloud KMS services, for contract tests: Azure Key Vault's keys
 * API and Cloud KMS's REST API, and a google-auth-library client that trusts the stand-in.
 * Used by the core providers' contract tests and the server's cloud seal tests.
 */
export {
  type FakeKeyVault,
  KEY_VAULT_RESOURCE,
  startFakeKeyVault,
} from './fake-azure-key-vault.js';
export { type FakeGcpKms, type GcpVersionState, startFakeGcpKms } from './fake-gcp-kms.js';
export { gcpTestAuth } from './gcp-test-auth.js';
export {
  type HttpsJsonServer,
  type SeenRequest,
  startHttpsJsonServer,
} from './https-json-server.js';

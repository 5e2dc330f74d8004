import type { Command } from 'commander';
import { registerAlertsCommands } from './commands/alerts/register.js';
import { registerAppRoleCommands } from './commands/approle/register.js';
import { registerAuditCommands } from './commands/audit/register.js';
import { registerAuthCommands } from './commands/auth/register.js';
import { registerAwsCommands } from './commands/aws/register.js';
import { registerBackupCommands } from './commands/backup/register.js';
import { registerCertCommands } from './commands/cert/register.js';
import { registerComplianceCommands } from './commands/compliance/register.js';
import { registerEncryptionCommands } from './commands/encryption/register.js';
import { registerEnvCommands } from './commands/env/register.js';
import { registerGenericCommands } from './commands/generic/register.js';
import { registerJwtCommands } from './commands/jwt/register.js';
import { registerKeygenCommand } from './commands/keygen/register.js';
import { registerKeyringCommands } from './commands/keyring/register.js';
import { registerKmsCommands } from './commands/kms/register.js';
import { registerKvCommands } from './commands/kv/register.js';
import { registerOperatorCommands } from './commands/operator/register.js';
import { registerPolicyCommands } from './commands/policy/register.js';
import { registerReencryptCommand } from './commands/reencrypt/register.js';
import { registerRotationCommands } from './commands/rotation/register.js';
import { registerRunCommand } from './commands/run/register.js';
import { registerScanCommand } from './commands/scan/register.js';
import { registerSecretsCommands } from './commands/secrets/register.js';
import { registerServerCommand } from './commands/server/register.js';
import { registerShamirCommands } from './commands/shamir/register.js';
import { registerTlsCommands } from './commands/tls/register.js';
import { registerTokenCommands } from './commands/token/register.js';
import { registerValidateCommand } from './commands/validate/register.js';
import { createLazy } from './lazy.js';
import { createRootCommand } from './root-command.js';

/**
 * Builds the command tree. Each command group registers itself from
 * `commands/<group>/register.ts`; command bodies are imported only when their command runs,
 * so `custos --help` loads nothing but commander. `custos scan` and `custos server` build only
 * their own branch (branch-program.ts).
 */
export function createProgram(setExitCode: (code: number) => void): Command {
  const lazy = createLazy(setExitCode);
  const program = createRootCommand();

  for (const register of [
    registerServerCommand,
    registerOperatorCommands,
    registerKvCommands,
    registerGenericCommands,
    registerPolicyCommands,
    registerRotationCommands,
    registerComplianceCommands,
    registerAlertsCommands,
    registerTokenCommands,
    registerAuthCommands,
    registerAwsCommands,
    registerSecretsCommands,
    registerAppRoleCommands,
    registerAuditCommands,
    registerKeyringCommands,
    registerKmsCommands,
    registerKeygenCommand,
    registerReencryptCommand,
    registerEncryptionCommands,
    registerJwtCommands,
    registerValidateCommand,
    registerRunCommand,
    registerEnvCommands,
    registerScanCommand,
    registerBackupCommands,
    registerShamirCommands,
    registerTlsCommands,
    registerCertCommands,
  ]) {
    register(program, lazy);
  }
  return program;
}

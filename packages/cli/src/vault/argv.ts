/**
 * Vault's CLI takes long flags with one dash (`-format=json`, `-policy app`) as well as two.
 * Commander takes only two, so the command line of a Vault-style command is rewritten before
 * commander reads it: a known long flag with one dash gains its second, and a boolean written
 * `-flag=false` becomes `--no-flag` (`=true`: `--flag`).
 */

/** The commands whose flags are read the Vault way. */
const VAULT_STYLE_COMMANDS = new Set([
  'policy',
  'token',
  'auth',
  'secrets',
  'approle',
  'read',
  'write',
  'list',
  'delete',
  'patch',
  'kv',
  'operator',
]);

/** Long flags that take a value. */
const VALUE_FLAGS = new Set([
  'format',
  'field',
  'policy',
  'ttl',
  'explicit-max-ttl',
  'period',
  'type',
  'role',
  'display-name',
  'num-uses',
  'use-limit',
  'metadata',
  'id',
  'increment',
  'path',
  'description',
  'version',
  'versions',
  'default-lease-ttl',
  'max-lease-ttl',
  'mount',
  'cas',
  'max-versions',
  'delete-version-after',
  'custom-metadata',
  'key-shares',
  'key-threshold',
  'recovery-shares',
  'recovery-threshold',
  'target',
  'options',
  'plugin-name',
  'audit-non-hmac-request-keys',
  'audit-non-hmac-response-keys',
  'listing-visibility',
  'otp',
  'decode',
  'nonce',
]);

/** Long flags that take no value (Vault's booleans). */
const BOOLEAN_FLAGS = new Set([
  'force',
  'self',
  'accessor',
  'orphan',
  'renewable',
  'no-default-policy',
  'reset',
  'local',
  'seal-wrap',
  'cas-required',
  'detailed',
  'allow-insecure-http',
  'help',
  'init',
  'status',
  'cancel',
  'generate-otp',
  'verify',
  'migrate',
]);

/**
 * Rewrites Vault's one-dash long flags of a Vault-style command (`custos token create
 * -policy=app -ttl 1h -format=json`) into commander's two-dash form. Nothing after `--` is
 * touched, nor any argument of other commands (`custos run` passes its arguments on as they are).
 *
 * @example
 * ```ts
 * normaliseVaultFlags(['read', '-format=json', '-field', 'x', 'secret/data/a']);
 * // ['read', '--format=json', '--field', 'x', 'secret/data/a']
 * ```
 */
export function normaliseVaultFlags(argv: readonly string[]): string[] {
  if (!VAULT_STYLE_COMMANDS.has(argv[0] ?? '')) return [...argv];
  const out: string[] = [];
  let rest = false;
  for (const arg of argv) {
    if (rest || arg === '--') {
      rest = true;
      out.push(arg);
      continue;
    }
    out.push(rewrite(arg));
  }
  return out;
}

function rewrite(arg: string): string {
  const match = /^--?([a-z][a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
  if (match === null) return arg;
  const [, name = '', value] = match;
  if (VALUE_FLAGS.has(name)) return value === undefined ? `--${name}` : `--${name}=${value}`;
  if (!BOOLEAN_FLAGS.has(name)) return arg;
  if (value === undefined || value === 'true') return `--${name}`;
  if (value === 'false') return name.startsWith('no-') ? `--${name.slice(3)}` : `--no-${name}`;
  return arg;
}

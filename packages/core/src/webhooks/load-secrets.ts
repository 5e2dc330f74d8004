import { CustosError } from '../errors/index.js';
import { type SecretSource, secretReader } from '../lib/secret-source.js';
import { Secret } from '../redaction/secret.js';
import { parseNotAfter, type WebhookSecretEntry } from './secrets.js';

/** Options for {@link loadWebhookSecrets}. */
export interface LoadWebhookSecretsOptions {
  /** `process.env`, a parsed dotenv file, or a getter such as `secrets.getOptionalSecret`. */
  readonly secrets: SecretSource;
  /** The current secret's variable (default `WEBHOOK_SECRET`). */
  readonly name?: string;
}

/**
 * Reads a webhook secret and, during a rotation, its predecessor with the end of its grace
 * window: `WEBHOOK_SECRET`, `WEBHOOK_SECRET_PREVIOUS` and `WEBHOOK_SECRET_PREVIOUS_NOT_AFTER`
 * (ISO 8601 with a time zone, required with a previous secret: its window ends at a fixed time,
 * whatever restarts). Gives the list a signer or verifier takes (values wrapped in `Secret`, so
 * printing the list shows none); the signer or verifier checks their strength.
 *
 * @example
 * ```ts
 * const secrets = await loadWebhookSecrets({ secrets: process.env });
 * const verifier = createWebhookVerifier({ secrets });
 * ```
 */
export async function loadWebhookSecrets(
  options: LoadWebhookSecretsOptions,
): Promise<WebhookSecretEntry[]> {
  const read = secretReader(options.secrets);
  const name = options.name ?? 'WEBHOOK_SECRET';
  const previousName = `${name}_PREVIOUS`;
  const notAfterName = `${previousName}_NOT_AFTER`;
  const [current, previous, notAfter] = await Promise.all([
    read(name),
    read(previousName),
    read(notAfterName),
  ]);
  if (current === undefined) throw new CustosError('ERR_SECRET_MISSING', `${name} is not set`);
  const entries: WebhookSecretEntry[] = [{ secret: new Secret(current), name }];
  if (previous !== undefined) {
    if (notAfter === undefined) {
      throw new CustosError(
        'ERR_SECRET_MISSING',
        `${previousName} is set without ${notAfterName} (the end of its grace window, ISO 8601)`,
      );
    }
    parseNotAfter(notAfter, previousName);
    entries.push({ secret: new Secret(previous), notAfter, name: previousName });
  }
  return entries;
}

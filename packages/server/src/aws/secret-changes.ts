import type { ChangeKind } from '../events/change-events.js';
import { newSecretName, type SecretsManagerSite, secretRefOf } from './secret-id.js';
import { secretValueOf } from './secret-value.js';

/** A change a Secrets Manager operation made to one secret: its KV key and the change's kind. */
export interface SecretChange {
  readonly key: string;
  readonly kind: ChangeKind;
}

/** What each operation that changes a secret changes (the others change nothing). */
const CHANGES: Readonly<Record<string, (body: Record<string, unknown>) => ChangeKind>> = {
  CreateSecret: () => 'write',
  PutSecretValue: () => 'write',
  // A description-only update changes metadata; with a value it writes a version.
  UpdateSecret: (body) => (secretValueOf(body) === undefined ? 'metadata' : 'write'),
  // Moving a label can move AWSCURRENT: what a reader of the current value gets changes.
  UpdateSecretVersionStage: () => 'write',
  DeleteSecret: () => 'delete',
  RestoreSecret: () => 'metadata',
  TagResource: () => 'metadata',
  UntagResource: () => 'metadata',
};

/**
 * The change a successful Secrets Manager operation made, or undefined for one that changes
 * nothing (reads, listings, GetRandomPassword). Called after the operation succeeded, so the
 * body's name was valid; the event names the secret's KV key, never its value.
 *
 * @example
 * ```ts
 * changeOfOperation('PutSecretValue', { SecretId: 'db', SecretString: 's' }, site);
 * // { key: 'db', kind: 'write' }
 * ```
 */
export function changeOfOperation(
  operation: string,
  body: Record<string, unknown>,
  site: SecretsManagerSite,
): SecretChange | undefined {
  const kindOf = Object.hasOwn(CHANGES, operation) ? CHANGES[operation] : undefined;
  if (kindOf === undefined) return undefined;
  const key =
    operation === 'CreateSecret' ? newSecretName(body.Name) : secretRefOf(site, body.SecretId).name;
  return { key, kind: kindOf(body) };
}

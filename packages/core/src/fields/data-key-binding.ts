import { CustosError } from '../errors/index.js';
import type { FieldIdentifier } from './types.js';

// Imports nothing outside node's built-ins and custos's errors: the cloud providers import it,
// and they load without the crypto module's dependencies.

/** What a data key is for; the KMS binds it to the wrapped key, so unwrapping needs it again. */
export interface DataKeyContext {
  /** The tenant the data key belongs to; another tenant's context cannot unwrap it. */
  readonly tenantId?: FieldIdentifier;
  /**
   * Set only by the backup format's KMS stanza (`kmsRecipient` of `@custos/core/stream`): the
   * data key wraps the file key of the backup with this file id (32 lowercase hex digits), and
   * is bound to `{ purpose: 'custos-backup', file }` instead of a field's
   * `{ purpose: 'field-data-key', tenant }`, so neither kind of wrapped key opens as the other.
   * Never combined with `tenantId`.
   */
  readonly backupFileId?: string;
  /**
   * Set only by the custos server's cloud auto-unseal seals: the key wrapped is the root key of
   * the cluster with this id (its `core/seal-config`), bound to `{ purpose: 'custos-seal',
   * cluster }`, so neither a field's nor a backup's wrapped key opens as a root key (or back),
   * nor another cluster's root key wrapped by the same cloud key. Never combined with the others.
   */
  readonly sealClusterId?: string;
}

/** The purposes a data key can be bound to (see {@link dataKeyBinding}). */
export type DataKeyPurpose = 'field-data-key' | 'custos-backup' | 'custos-seal';

const BACKUP_FILE_ID = /^[0-9a-f]{32}$/;
const CLUSTER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The record every {@link FieldKms} provider binds a data key to, as associated data or as the
 * encryption context: `{ purpose: 'field-data-key', tenant? }` for a field (the tenant only when
 * there is one), `{ purpose: 'custos-backup', file }` for a backup's file key, `{ purpose: 'custos-seal',
 * cluster }` for a server's root key under a cloud seal. One function, so
 * every provider separates the two the same way.
 *
 * @example
 * ```ts
 * dataKeyBinding({ tenantId: 7 }); // { purpose: 'field-data-key', tenant: '7' }
 * dataKeyBinding({ backupFileId: '00'.repeat(16) }); // { purpose: 'custos-backup', file: '0000…' }
 * dataKeyBinding({ sealClusterId: randomUUID() }); // { purpose: 'custos-seal', cluster: '…' }
 * ```
 */
export function dataKeyBinding(context: DataKeyContext): Readonly<Record<string, string>> {
  const { tenantId, backupFileId, sealClusterId } = context;
  if (sealClusterId !== undefined) {
    if (typeof sealClusterId !== 'string' || !CLUSTER_ID.test(sealClusterId)) {
      throw new CustosError('ERR_INVALID_ARGUMENT', 'a seal cluster id is a lowercase UUID');
    }
    if (tenantId !== undefined || backupFileId !== undefined) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        'a root key wrapped by a seal belongs to no tenant and no backup file',
      );
    }
    return { purpose: 'custos-seal', cluster: sealClusterId };
  }
  if (backupFileId !== undefined) {
    if (typeof backupFileId !== 'string' || !BACKUP_FILE_ID.test(backupFileId)) {
      throw new CustosError('ERR_INVALID_ARGUMENT', 'a backup file id is 32 lowercase hex digits');
    }
    if (tenantId !== undefined) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        'a data key is for a backup file or for a tenant, not both',
      );
    }
    return { purpose: 'custos-backup', file: backupFileId };
  }
  return tenantId === undefined
    ? { purpose: 'field-data-key' }
    : { purpose: 'field-data-key', tenant: String(tenantId) };
}

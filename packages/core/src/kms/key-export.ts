import { CustosError } from '../errors/index.js';
import { assertExportAllowed, type ExportType } from './key-custody.js';
import { keyTypeSupport } from './key-types.js';
import type { TransitKeyPolicy, TransitKeyVersion } from './transit-key.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_ARGUMENT', message);

/** A version as `transit/export/:type/:name/:version` names it: a number, `v<N>` or `latest`. */
function requestedVersion(policy: TransitKeyPolicy, version: string): number {
  if (version === 'latest') return policy.latest_version;
  if (!/^v?\d{1,15}$/.test(version)) throw invalid('invalid key version');
  return Number(version.replace(/^v/, ''));
}

const MATERIAL: Readonly<Record<ExportType, (v: TransitKeyVersion) => string | undefined>> = {
  // An RSA key encrypts with its key pair: its encryption key is its private key (as Vault).
  'encryption-key': (v) => v.key ?? v.private_key,
  'hmac-key': (v) => v.hmac_key,
  'signing-key': (v) => v.private_key,
  'public-key': (v) => v.public_key,
};

/**
 * The key material `transit/export` releases, by version, as Vault releases it: the lifecycle
 * and flags first ({@link assertExportAllowed}), then only versions that still decrypt. A full
 * export holds the versions from `min_decryption_version` to the latest; an explicit version
 * below `min_decryption_version` is refused ("version for export is below minimum decryption
 * version"), so raising the floor retires old material for export as it does for decryption.
 * Backups stay whole: they exist to restore the key as it is.
 *
 * @example
 * ```ts
 * exportKeyMaterial(policy, versions, 'encryption-key', undefined, Date.now()); // { '2': '…' }
 * exportKeyMaterial(policy, versions, 'encryption-key', '1', Date.now()); // throws if 1 < floor
 * ```
 */
export function exportKeyMaterial(
  policy: TransitKeyPolicy,
  versions: readonly TransitKeyVersion[],
  type: ExportType,
  version: string | undefined,
  nowMs: number,
): Record<string, string> {
  assertExportAllowed(policy, type, nowMs);
  let released: readonly TransitKeyVersion[];
  if (version === undefined) {
    released = versions.filter((v) => v.version >= policy.min_decryption_version);
  } else {
    const n = requestedVersion(policy, version);
    if (n < policy.min_decryption_version)
      throw invalid('version for export is below minimum decryption version');
    const found = versions.find((v) => v.version === n);
    if (found === undefined) throw invalid('version does not exist or cannot be found');
    released = [found];
  }
  const keys: Record<string, string> = {};
  for (const v of released) {
    const material =
      type === 'encryption-key' && !keyTypeSupport[policy.type].encryption
        ? undefined
        : MATERIAL[type](v);
    if (material === undefined) throw invalid(`key type ${policy.type} has no ${type}`);
    keys[String(v.version)] = material;
  }
  return keys;
}

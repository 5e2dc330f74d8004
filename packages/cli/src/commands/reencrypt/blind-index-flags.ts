import { readKeyringFile, writeKeyringFile } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import type { BlindIndexColumn } from '@custos/core/fields';
import { splitList } from './target.js';

/** The flags of a blind-index backfill (`custos reencrypt --blind-index …`). */
export interface BlindIndexFlags {
  blindIndex?: string;
  indexNormalize: boolean;
  indexBits?: string;
  indexSlow: boolean;
  retireOldVersions: boolean;
}

/**
 * `email=email_bidx,name=name_bidx` (each column among `columns`) → the index of each column,
 * computed as the flags say; undefined without `--blind-index` (a re-encryption run).
 */
export function blindIndexesFrom(
  flags: BlindIndexFlags,
  columns: readonly string[],
): Record<string, BlindIndexColumn> | undefined {
  if (flags.blindIndex === undefined) {
    const stray = flags.indexNormalize || flags.indexSlow || flags.indexBits !== undefined;
    if (stray || flags.retireOldVersions) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        '--index-normalize, --index-bits, --index-slow and --retire-old-versions go with --blind-index',
      );
    }
    return undefined;
  }
  const bits = flags.indexBits === undefined ? undefined : Number(flags.indexBits);
  if (bits !== undefined && !(Number.isInteger(bits) && bits >= 1 && bits <= 256)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', '--index-bits must be an integer from 1 to 256');
  }
  const indexes: Record<string, BlindIndexColumn> = {};
  for (const pair of splitList(flags.blindIndex, '--blind-index')) {
    const [column, indexColumn, extra] = pair.split('=').map((part) => part.trim());
    if (!column || !indexColumn || extra !== undefined) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `--blind-index takes column=index pairs (email=email_bidx), not "${pair}"`,
      );
    }
    if (!columns.includes(column)) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `--blind-index ${pair}: ${column} must be one of --columns (its value is decrypted to recompute the index)`,
      );
    }
    if (Object.hasOwn(indexes, column)) {
      throw new CustosError('ERR_INVALID_ARGUMENT', `--blind-index names ${column} twice`);
    }
    indexes[column] = {
      indexColumn,
      ...(flags.indexNormalize ? { normalize: true } : {}),
      ...(bits === undefined ? {} : { bits }),
      ...(flags.indexSlow ? { slow: true } : {}),
    };
  }
  return indexes;
}

/**
 * Disables every version of the blind-index key but the primary in the keyring file, after a
 * complete backfill to that primary. Refused when the file's primary is not the one the run
 * wrote (rotated meanwhile). Returns the versions disabled.
 */
export async function retireOldBlindIndexVersions(
  keyringFile: string,
  keyName: string,
  backfilledVersion: number,
): Promise<number[]> {
  const keyring = await readKeyringFile(keyringFile);
  const info = keyring.info(keyName);
  if (info.primaryVersion !== backfilledVersion) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `"${keyName}" is at v${info.primaryVersion} in ${keyringFile}, the run wrote v${backfilledVersion}: run it again before retiring`,
    );
  }
  const retired = info.versions
    .filter((v) => v.version !== info.primaryVersion)
    .filter((v) => v.state === 'enabled' || v.state === 'decrypt-only')
    .map((v) => v.version);
  for (const version of retired) keyring.setState(keyName, version, 'disabled');
  if (retired.length > 0) await writeKeyringFile(keyringFile, keyring);
  return retired;
}

import { CustosError } from '@custos/core/errors';
import { quoteTarget } from '@custos/reencrypt';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/** One table column of transit ciphertexts a `transit-key` rotation rewraps. */
export interface RewrapTarget {
  /** The name of a database the server was configured with (`rotationDatabases`), never a URL. */
  readonly database: string;
  /** `table` or `schema.table`. */
  readonly table: string;
  readonly idColumn: string;
  readonly column: string;
}

/** The settings of a `transit-key` policy, checked. */
export interface TransitKeySettings {
  readonly key: string;
  readonly targets: readonly RewrapTarget[];
  /** Rows per batch (default 500). */
  readonly batchSize: number;
  /**
   * When the grace period ends (and never before the rewrap succeeded), raise the key's
   * `min_decryption_version` to the version the rotation made current (default false).
   */
  readonly retireOldVersions: boolean;
}

const KEY_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const DATABASE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** At most this many targets per policy. */
export const MAX_REWRAP_TARGETS = 16;

/**
 * Reads and checks a `transit-key` policy's settings: the transit key's name, and the targets,
 * each naming a configured database (`known`) and SQL identifiers (plain identifiers only, so no
 * name can carry SQL; checked by `@custos/reencrypt`'s `quoteTarget`).
 */
export function transitKeySettings(
  settings: Readonly<Record<string, unknown>>,
  known: (database: string) => boolean,
): TransitKeySettings {
  const key = settings.key;
  if (typeof key !== 'string' || !KEY_NAME.test(key))
    throw invalid('settings.key must name a transit key (letters, digits, _, . and -)');
  const raw = settings.targets ?? [];
  if (!Array.isArray(raw) || raw.length > MAX_REWRAP_TARGETS)
    throw invalid(`settings.targets must be a list of at most ${MAX_REWRAP_TARGETS} targets`);
  const targets = raw.map((t: unknown, i): RewrapTarget => {
    const where = `settings.targets[${i}]`;
    if (typeof t !== 'object' || t === null || Array.isArray(t))
      throw invalid(`${where} must be an object { database, table, id_column, column }`);
    const { database, table, id_column: idColumn, column } = t as Record<string, unknown>;
    if (typeof database !== 'string' || !DATABASE_NAME.test(database))
      throw invalid(`${where}.database must name a database configured on the server`);
    if (!known(database))
      throw invalid(
        `${where}.database: no database named ${database} is configured on this server`,
      );
    if (typeof table !== 'string' || typeof idColumn !== 'string' || typeof column !== 'string')
      throw invalid(`${where} needs table, id_column and column (strings)`);
    try {
      quoteTarget({ table, idColumn, columns: [column] });
    } catch (err) {
      throw invalid(`${where}: ${(err as Error).message}`);
    }
    return { database, table, idColumn, column };
  });
  const batchSize = settings.batch_size ?? 500;
  if (
    typeof batchSize !== 'number' ||
    !Number.isInteger(batchSize) ||
    batchSize < 1 ||
    batchSize > 10_000
  )
    throw invalid('settings.batch_size must be an integer from 1 to 10000');
  const retireOldVersions = settings.retire_old_versions ?? false;
  if (typeof retireOldVersions !== 'boolean')
    throw invalid('settings.retire_old_versions must be true or false');
  return { key, targets, batchSize, retireOldVersions };
}

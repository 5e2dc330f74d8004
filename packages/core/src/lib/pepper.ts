import { CustosError } from '../errors/index.js';
import { isSecret, type Secret } from '../redaction/secret.js';
import { type BytesLike, toBuffer } from './bytes.js';

/** A pepper as the secrets SDK or a key file hands it over. */
export type PepperValue = BytesLike | Secret<string> | Secret<Uint8Array>;

/**
 * Server-side secrets mixed into password hashes or API-key HMACs, each with an id stored
 * beside what it protects, so a new pepper can take over while old ones still verify.
 */
export interface PepperSet {
  /** Id of the pepper new hashes and keys use. */
  readonly currentId: string;
  /** Every pepper that stored values may still name, by id (the current one included). */
  readonly peppers: Readonly<Record<string, PepperValue>>;
}

/** Pepper ids: short, and safe to store inside a PHC-style string. */
export const PEPPER_ID = /^[A-Za-z0-9_-]{1,32}$/;
const MIN_PEPPER_BYTES = 32;

/** A checked pepper set: ids valid, each pepper at least 32 bytes, the current one present. */
export interface ResolvedPeppers {
  readonly currentId: string;
  has(id: string): boolean;
  get(id: string): Buffer;
}

/** Checks a pepper set once, up front; messages name ids, never values. */
export function resolvePeppers(set: PepperSet): ResolvedPeppers {
  if (
    typeof set?.currentId !== 'string' ||
    typeof set.peppers !== 'object' ||
    set.peppers === null
  ) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'peppers must be { currentId, peppers: { id: value } }',
    );
  }
  const byId = new Map<string, Buffer>();
  for (const [id, value] of Object.entries(set.peppers)) {
    if (!PEPPER_ID.test(id)) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        'a pepper id must be 1-32 characters of [A-Za-z0-9_-]',
      );
    }
    const revealed = isSecret(value) ? value.reveal() : value;
    const bytes = toBuffer(revealed as BytesLike);
    if (bytes.length < MIN_PEPPER_BYTES) {
      throw new CustosError(
        'ERR_WEAK_SECRET',
        `pepper "${id}" is shorter than ${MIN_PEPPER_BYTES} bytes`,
      );
    }
    byId.set(id, bytes);
  }
  if (!byId.has(set.currentId)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `the current pepper "${set.currentId}" is not among the peppers`,
    );
  }
  return {
    currentId: set.currentId,
    has(id) {
      return byId.has(id);
    },
    get(id) {
      const pepper = byId.get(id);
      if (pepper === undefined) {
        throw new CustosError('ERR_PEPPER_UNKNOWN', `pepper "${id}" is not configured`);
      }
      return pepper;
    },
  };
}

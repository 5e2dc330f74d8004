import { createHash } from 'node:crypto';
import { CustosError } from '../errors/index.js';

/** What every share line starts with (`SHARES.md`). */
export const SHARE_PREFIX = 'custos-share1';

/** Bytes of the commitment each share carries: SHA-256 of the tagged secret and the set. */
export const COMMITMENT_LENGTH = 32;

/**
 * One share of a secret split by {@link splitSecret}, as parsed from its text line. `setId`
 * tells splits apart; `index` (1..total) tells shares of one split apart.
 */
export interface SecretShare {
  readonly setId: string;
  readonly threshold: number;
  readonly total: number;
  readonly index: number;
  /** The Shamir share of the tagged secret (its last byte is the x coordinate). */
  readonly share: Buffer;
  /** SHA-256 over the set and the tagged secret, the same in every share of a set. */
  readonly commitment: Buffer;
}

const SET_ID = /^[0-9a-f]{16}$/;
const LINE =
  /^custos-share1\.([0-9a-f]{16})\.(\d{1,3})-of-(\d{1,3})\.(\d{1,3})\.([A-Za-z0-9_-]+)\.([0-9a-f]{8})$/;

/** The 8 hex digits that end a share line: the first 4 bytes of SHA-256 of what comes before. */
function checksumOf(body: string): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 8);
}

/**
 * The text form of a share: one line, printable, QR-friendly:
 * `custos-share1.<set id>.<threshold>-of-<total>.<index>.<share ‖ commitment, base64url>.<checksum>`.
 *
 * @example
 * ```ts
 * const line = formatShare(share); // 'custos-share1.3f9a1c2b7d004e11.3-of-5.2.…'
 * ```
 */
export function formatShare(share: SecretShare): string {
  const data = Buffer.concat([share.share, share.commitment]).toString('base64url');
  const body = `${SHARE_PREFIX}.${share.setId}.${share.threshold}-of-${share.total}.${share.index}.${data}`;
  return `${body}.${checksumOf(body)}`;
}

/**
 * Parses one share line, checking its form and checksum. A mistyped, cut or altered line fails
 * with `ERR_SHARE_MALFORMED` naming `source` (never the share's content).
 *
 * @example
 * ```ts
 * const share = parseShare(line, 'share file alice.txt');
 * ```
 */
export function parseShare(text: string, source: string): SecretShare {
  const line = text.trim();
  const match = LINE.exec(line);
  if (match === null) {
    throw new CustosError(
      'ERR_SHARE_MALFORMED',
      line.startsWith(`${SHARE_PREFIX}.`)
        ? `${source} is not a complete share (cut off, or a character changed)`
        : `${source} is not a custos share (it should start with ${SHARE_PREFIX}.)`,
    );
  }
  const [, setId, threshold, total, index, data, checksum] = match as unknown as string[];
  const body = line.slice(0, line.length - 9);
  if (checksumOf(body) !== checksum) {
    throw new CustosError(
      'ERR_SHARE_MALFORMED',
      `${source} fails its checksum: a character was changed or mistyped`,
    );
  }
  const t = Number(threshold);
  const n = Number(total);
  const i = Number(index);
  const bytes = Buffer.from(data as string, 'base64url');
  if (
    !SET_ID.test(setId as string) ||
    t < 2 ||
    n < t ||
    n > 255 ||
    i < 1 ||
    i > n ||
    bytes.length < COMMITMENT_LENGTH + 2 ||
    bytes.toString('base64url') !== data
  ) {
    throw new CustosError('ERR_SHARE_MALFORMED', `${source} holds an impossible share`);
  }
  return {
    setId: setId as string,
    threshold: t,
    total: n,
    index: i,
    share: bytes.subarray(0, bytes.length - COMMITMENT_LENGTH),
    commitment: bytes.subarray(bytes.length - COMMITMENT_LENGTH),
  };
}

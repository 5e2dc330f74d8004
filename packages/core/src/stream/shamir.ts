import { createHash, randomBytes } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { constantTimeEqual } from '../crypto/hmac.js';
import { CustosError } from '../errors/index.js';
import { formatShare, parseShare, type SecretShare } from './share-text.js';

/** Random bytes put before the secret when it is split; the commitment covers them. */
const TAG_LENGTH = 16;
/**
 * A secret of at most this many bytes (a key, an identity line, a passphrase) is split.
 *
 * @example
 * ```ts
 * if (secret.length > MAX_SHARED_SECRET) throw new Error('split a key that encrypts it instead');
 * ```
 */
export const MAX_SHARED_SECRET = 4096;
/** Subsets tried to find a wrong share among more than the threshold. */
const MAX_SUBSETS = 2000;

/** Options of {@link splitSecret}: `threshold` of `shares` rebuild the secret (2 ≤ t ≤ n ≤ 255). */
export interface SplitSecretOptions {
  readonly threshold: number;
  readonly shares: number;
}

/** One share line to combine, and where it came from (for messages: a file name, a line number). */
export interface ShareInput {
  readonly text: string;
  readonly source: string;
}

function commitmentOf(setId: string, threshold: number, total: number, tagged: Uint8Array): Buffer {
  return createHash('sha256')
    .update('custos-share/v1 commitment')
    .update(Buffer.from(setId, 'hex'))
    .update(Buffer.from([threshold, total]))
    .update(tagged)
    .digest();
}

/**
 * Splits a secret into `shares` text lines (`SHARES.md`), any `threshold` of which rebuild it
 * with {@link combineShares}; fewer reveal nothing about it. Each line carries the split's random
 * set id, the threshold, its index, a checksum, and a commitment that lets the combined secret be
 * checked without revealing it (the secret is split with 16 random bytes before it, which the
 * commitment covers).
 *
 * @example
 * ```ts
 * const lines = await splitSecret(randomBytes(32), { threshold: 3, shares: 5 });
 * ```
 */
export async function splitSecret(
  secret: Uint8Array,
  options: SplitSecretOptions,
): Promise<string[]> {
  const { threshold, shares } = options;
  if (!Number.isInteger(threshold) || !Number.isInteger(shares)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'threshold and shares must be integers');
  }
  if (threshold < 2 || shares < threshold || shares > 255) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `need 2 ≤ threshold ≤ shares ≤ 255 (got threshold ${threshold}, shares ${shares})`,
    );
  }
  if (secret.length < 1 || secret.length > MAX_SHARED_SECRET) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `a secret to split holds 1 to ${MAX_SHARED_SECRET} bytes (got ${secret.length})`,
    );
  }
  const setId = randomBytes(8).toString('hex');
  // A plain Uint8Array: the library checks its argument's class.
  const tagged = new Uint8Array(TAG_LENGTH + secret.length);
  tagged.set(randomBytes(TAG_LENGTH));
  tagged.set(secret, TAG_LENGTH);
  try {
    const commitment = commitmentOf(setId, threshold, shares, tagged);
    const parts = await split(tagged, shares, threshold);
    return parts.map((part, i) =>
      formatShare({
        setId,
        threshold,
        total: shares,
        index: i + 1,
        share: Buffer.from(part),
        commitment,
      }),
    );
  } finally {
    tagged.fill(0);
  }
}

/**
 * Rebuilds a secret from share lines made by {@link splitSecret}, and checks it against the
 * commitment the shares carry: it never returns a wrong secret. Typed errors, naming shares by
 * their `source`, never by content: `ERR_SHARE_MALFORMED` (not a share, failed checksum),
 * `ERR_SHARES_MIXED` (shares of different splits, or of one split that disagree),
 * `ERR_SHARE_DUPLICATE` (the same share twice), `ERR_SHARES_TOO_FEW` (below the threshold),
 * `ERR_SHARES_WRONG` (well-formed shares that do not rebuild the secret: one was forged; the
 * message names it when more than the threshold were given).
 *
 * @example
 * ```ts
 * const key = await combineShares(lines.map((text, i) => ({ text, source: `line ${i + 1}` })));
 * ```
 */
export async function combineShares(inputs: readonly ShareInput[]): Promise<Buffer> {
  if (inputs.length === 0) throw new CustosError('ERR_SHARES_TOO_FEW', 'no share given');
  const parsed = inputs.map((input) => ({
    share: parseShare(input.text, input.source),
    source: input.source,
  }));
  checkOneSet(parsed);
  const first = (parsed[0] as (typeof parsed)[number]).share;
  const byIndex = new Map<number, (typeof parsed)[number]>();
  for (const entry of parsed) {
    const seen = byIndex.get(entry.share.index);
    if (seen !== undefined) {
      if (seen.share.share.equals(entry.share.share)) {
        throw new CustosError(
          'ERR_SHARE_DUPLICATE',
          `${entry.source} is share ${entry.share.index} again (already given as ${seen.source}): each share counts once; add a different share`,
        );
      }
      throw new CustosError(
        'ERR_SHARES_MIXED',
        `${seen.source} and ${entry.source} both claim to be share ${entry.share.index} of set ${first.setId} but differ: one of them was altered`,
      );
    }
    byIndex.set(entry.share.index, entry);
  }
  const distinct = [...byIndex.values()];
  if (distinct.length < first.threshold) {
    throw new CustosError(
      'ERR_SHARES_TOO_FEW',
      `set ${first.setId} needs ${first.threshold} of its ${first.total} shares; ${distinct.length} given (${distinct.map((d) => d.share.index).join(', ')})`,
    );
  }
  const secret = await rebuild(distinct.map((d) => d.share));
  if (secret !== undefined) return secret;
  throw new CustosError('ERR_SHARES_WRONG', await blame(distinct, first));
}

/** Every share must belong to the same split: the same set id, threshold, total and commitment. */
function checkOneSet(parsed: readonly { share: SecretShare; source: string }[]): void {
  const sets = new Map<string, string[]>();
  for (const { share, source } of parsed) {
    const key = `${share.setId}`;
    sets.set(key, [...(sets.get(key) ?? []), source]);
  }
  if (sets.size > 1) {
    const groups = [...sets.entries()].sort((a, b) => b[1].length - a[1].length);
    const [main, ...others] = groups as [[string, string[]], ...[string, string[]][]];
    const strays = others.map(([id, sources]) => `${sources.join(', ')} (set ${id})`).join('; ');
    throw new CustosError(
      'ERR_SHARES_MIXED',
      `these shares come from different splits: ${main[1].length} from set ${main[0]}, but ${strays}; combine shares of one set only`,
    );
  }
  const first = (parsed[0] as { share: SecretShare }).share;
  for (const { share, source } of parsed) {
    if (
      share.threshold !== first.threshold ||
      share.total !== first.total ||
      !constantTimeEqual(share.commitment, first.commitment)
    ) {
      throw new CustosError(
        'ERR_SHARES_MIXED',
        `${source} claims set ${share.setId} but disagrees with the other shares on its threshold, total or commitment: it was altered`,
      );
    }
  }
}

/** Combines shares and returns the secret only when it matches the commitment. */
async function rebuild(shares: readonly SecretShare[]): Promise<Buffer | undefined> {
  const first = shares[0] as SecretShare;
  let tagged: Buffer;
  try {
    tagged = Buffer.from(await combine(shares.map((s) => new Uint8Array(s.share))));
  } catch {
    return undefined;
  }
  try {
    const commitment = commitmentOf(first.setId, first.threshold, first.total, tagged);
    if (!constantTimeEqual(commitment, first.commitment) || tagged.length <= TAG_LENGTH) {
      return undefined;
    }
    return Buffer.from(tagged.subarray(TAG_LENGTH));
  } finally {
    tagged.fill(0);
  }
}

/**
 * Names the share(s) that keep the rest from combining: with more than the threshold given, a
 * subset that rebuilds the secret shows which shares lie outside every good subset.
 */
async function blame(
  distinct: readonly { share: SecretShare; source: string }[],
  first: SecretShare,
): Promise<string> {
  const generic = `the ${distinct.length} shares of set ${first.setId} do not rebuild the secret they were split from: a share was forged or altered`;
  if (distinct.length <= first.threshold) {
    return `${generic}; with only the threshold given, custos cannot tell which: add another share to find it`;
  }
  let tried = 0;
  for (const subset of subsets(distinct.length, first.threshold)) {
    if (++tried > MAX_SUBSETS) break;
    const secret = await rebuild(subset.map((i) => (distinct[i] as { share: SecretShare }).share));
    if (secret === undefined) continue;
    secret.fill(0);
    const good = new Set(subset);
    // Every share outside a good subset is checked against it: a good share joins it fine.
    const bad: string[] = [];
    for (let i = 0; i < distinct.length; i++) {
      if (good.has(i)) continue;
      const candidate = [...subset.slice(1), i].map(
        (j) => (distinct[j] as { share: SecretShare }).share,
      );
      const check = await rebuild(candidate);
      if (check === undefined) bad.push((distinct[i] as { source: string }).source);
      else check.fill(0);
    }
    return `${generic}: ${bad.join(', ')} ${bad.length === 1 ? 'is' : 'are'} wrong; the other shares agree`;
  }
  return `${generic}; no ${first.threshold} of them agree`;
}

function* subsets(n: number, k: number, start = 0, prefix: number[] = []): Generator<number[]> {
  if (prefix.length === k) {
    yield prefix;
    return;
  }
  for (let i = start; i <= n - (k - prefix.length); i++)
    yield* subsets(n, k, i + 1, [...prefix, i]);
}

import { randomBytes } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';
import { CustosError } from '../errors/index.js';
import { generateKeyMaterial, type JwtAlgorithm, type KeyMaterial } from './algorithms.js';
import { checkSeconds } from './duration.js';

/** `current` signs and verifies; `previous` only verifies, until its grace window ends. */
export type JwtKeyStatus = 'current' | 'previous';

/** What a keyset says about one key (never its material). */
export interface JwtKeyInfo {
  readonly kid: string;
  readonly algorithm: JwtAlgorithm;
  readonly status: JwtKeyStatus;
  /** ISO 8601. */
  readonly createdAt: string;
  /**
   * Previous keys: end of the grace window (ISO 8601); tokens it signed are refused from then
   * on. Absent on the current key. Required on every previous key loaded from or written to a
   * file; only compat mode's `*_PREVIOUS` keys lack it (they verify until the variable goes).
   */
  readonly verifyUntil?: string;
}

/** @internal A key with its material. */
export interface KeyEntry {
  readonly info: JwtKeyInfo;
  readonly material: KeyMaterial;
}

/**
 * Key ids custos creates and accepts: 1–64 characters of base64url. Anything else is refused.
 *
 * @example
 * ```ts
 * KID_PATTERN.test('kYho8Sm5Tgfbx7Jg'); // true
 * KID_PATTERN.test('../../dev/null'); // false
 * ```
 */
export const KID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Options for {@link JwtKeyset.rotate}. */
export interface RotateKeysetOptions {
  /** How long the outgoing current key keeps verifying. Make it at least the token lifetime. */
  readonly graceSeconds: number;
  /** Algorithm of the new key; default: the outgoing key's. */
  readonly algorithm?: JwtAlgorithm;
  readonly now?: Date;
  readonly rsaModulusLength?: number;
}

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * A set of JWT signing keys, each with a random `kid`: one **current** key that signs, and
 * **previous** keys that only verify until their grace window ends. Immutable: `rotate` and
 * `prune` return a new keyset. Printing a keyset (`JSON.stringify`, `console.log`) shows ids
 * and dates, never key material; only {@link serializeJwtKeyset} writes the material.
 *
 * @example
 * ```ts
 * let keyset = await JwtKeyset.generate('ES256');
 * keyset = await keyset.rotate({ graceSeconds: 48 * 3600 }); // old key verifies for 48 h
 * keyset.current.kid; // the new key's id
 * ```
 */
export class JwtKeyset {
  readonly #entries: readonly KeyEntry[];

  /** @internal Use {@link JwtKeyset.generate}, {@link loadJwtKeyset} or compat mode. */
  constructor(entries: readonly KeyEntry[]) {
    checkInvariants(entries.map((e) => e.info));
    this.#entries = [
      ...entries.filter((e) => e.info.status === 'current'),
      ...entries.filter((e) => e.info.status !== 'current'),
    ];
  }

  /**
   * A keyset holding one new current key.
   *
   * @example
   * ```ts
   * const keyset = await JwtKeyset.generate('EdDSA');
   * ```
   */
  static async generate(
    algorithm: JwtAlgorithm = 'ES256',
    options: { now?: Date; rsaModulusLength?: number } = {},
  ): Promise<JwtKeyset> {
    return new JwtKeyset([await newEntry(algorithm, options.now ?? new Date(), options)]);
  }

  /** The key that signs new tokens. */
  get current(): JwtKeyInfo {
    return currentEntry(this.#entries).info;
  }

  /** Every key, current first. */
  get keys(): readonly JwtKeyInfo[] {
    return this.#entries.map((e) => e.info);
  }

  /** The algorithms of the keys, for pinning `algorithms` when verifying. */
  get algorithms(): readonly JwtAlgorithm[] {
    return [...new Set(this.#entries.map((e) => e.info.algorithm))];
  }

  /**
   * Adds a new current key; the outgoing current key becomes previous and verifies for
   * `graceSeconds`. Previous keys whose grace has already ended are dropped, and an open-ended
   * previous key (compat mode) gets the same end as the outgoing key, so the result can be
   * written to a file.
   *
   * @example
   * ```ts
   * const next = await keyset.rotate({ graceSeconds: parseDurationSeconds('48h') });
   * ```
   */
  async rotate(options: RotateKeysetOptions): Promise<JwtKeyset> {
    const now = options.now ?? new Date();
    const graceSeconds = checkSeconds(options.graceSeconds, 'graceSeconds');
    const outgoing = currentEntry(this.#entries);
    const fresh = await newEntry(options.algorithm ?? outgoing.info.algorithm, now, options);
    const verifyUntil = new Date(now.getTime() + graceSeconds * 1000).toISOString();
    const demoted: KeyEntry = {
      material: outgoing.material,
      info: { ...outgoing.info, status: 'previous', verifyUntil },
    };
    const others = this.#entries
      .filter((e) => e !== outgoing && !isRetired(e.info, now))
      .map((e) =>
        e.info.verifyUntil === undefined ? { ...e, info: { ...e.info, verifyUntil } } : e,
      );
    return new JwtKeyset([fresh, demoted, ...others]);
  }

  /**
   * Drops previous keys whose grace window has ended (they refuse their tokens anyway).
   *
   * @example
   * ```ts
   * await writeJwtKeysetFile(path, keyset.prune());
   * ```
   */
  prune(now: Date = new Date()): JwtKeyset {
    return new JwtKeyset(this.#entries.filter((e) => !isRetired(e.info, now)));
  }

  /**
   * The public keys other services verify with (RFC 7517 JWK Set): asymmetric keys still in
   * use, each with `kid`, `alg` and `use: "sig"`. HS256 secrets are never published.
   *
   * @example
   * ```ts
   * app.get('/.well-known/jwks.json', (_req, res) => { res.json(keyset.toJwks()); }); // Express
   * ```
   */
  toJwks(now: Date = new Date()): JSONWebKeySet {
    const keys: JWK[] = [];
    for (const { info, material } of this.#entries) {
      if (material.publicJwk === undefined || isRetired(info, now)) continue;
      keys.push({ ...material.publicJwk, kid: info.kid, alg: info.algorithm, use: 'sig' });
    }
    return { keys };
  }

  toJSON(): { current: string; keys: readonly JwtKeyInfo[] } {
    return { current: this.current.kid, keys: this.keys };
  }

  [inspectSymbol](): string {
    const list = this.keys.map((k) => `${k.kid} ${k.algorithm} ${k.status}`).join(', ');
    return `JwtKeyset(${list})`;
  }

  /** @internal For the verifier and the serialiser in this package. */
  static readonly internals = {
    entries: (keyset: JwtKeyset): readonly KeyEntry[] => keyset.#entries,
    current: (keyset: JwtKeyset): KeyEntry => currentEntry(keyset.#entries),
  };
}

/** Whether a key's grace window has ended at `now`. */
export function isRetired(info: JwtKeyInfo, now: Date): boolean {
  return (
    info.status === 'previous' &&
    info.verifyUntil !== undefined &&
    now.getTime() >= Date.parse(info.verifyUntil)
  );
}

function currentEntry(entries: readonly KeyEntry[]): KeyEntry {
  return entries.find((e) => e.info.status === 'current') as KeyEntry;
}

async function newEntry(
  algorithm: JwtAlgorithm,
  now: Date,
  options: { rsaModulusLength?: number },
): Promise<KeyEntry> {
  return {
    info: {
      kid: randomBytes(12).toString('base64url'),
      algorithm,
      status: 'current',
      createdAt: now.toISOString(),
    },
    material: await generateKeyMaterial(algorithm, options),
  };
}

function checkInvariants(infos: readonly JwtKeyInfo[]): void {
  const fail = (message: string): never => {
    throw new CustosError('ERR_MALFORMED_KEYSET', message);
  };
  if (infos.filter((k) => k.status === 'current').length !== 1) {
    fail('a keyset needs exactly one current key');
  }
  const seen = new Set<string>();
  for (const info of infos) {
    if (!KID_PATTERN.test(info.kid)) fail('a kid must be 1-64 characters of [A-Za-z0-9_-]');
    if (seen.has(info.kid)) fail(`kid "${info.kid}" appears twice; every kid must be unique`);
    seen.add(info.kid);
    if (info.status === 'current' && info.verifyUntil !== undefined) {
      fail(`key "${info.kid}" is current and so cannot have verifyUntil`);
    }
  }
}

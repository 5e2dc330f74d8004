import type { JWK } from 'jose';
import { CustosError } from '../errors/index.js';
import type { KeyFileUnlockOptions } from '../stream/protected-file.js';
import { openKeyFile } from '../stream/protected-read.js';
import { importKeyMaterial, isJwtAlgorithm, type JwtAlgorithm } from './algorithms.js';
import { type JwtKeyInfo, type JwtKeyStatus, JwtKeyset, type KeyEntry } from './keyset.js';

/**
 * The serialised form of a keyset: each key's private material as a JWK (the HS256 secret in
 * `k`, base64url). Keep it like a private key: mode 0600, never in git.
 */
export interface JwtKeysetJson {
  readonly custos: 'jwt-keyset';
  readonly formatVersion: 1;
  readonly keys: readonly {
    readonly kid: string;
    readonly alg: JwtAlgorithm;
    readonly status: JwtKeyStatus;
    readonly createdAt: string;
    readonly verifyUntil?: string;
    readonly jwk: JWK;
  }[];
}

/**
 * Serialises a keyset, private key material included, as JSON text.
 *
 * @example
 * ```ts
 * await writeFile('jwt-keys.json', serializeJwtKeyset(keyset), { mode: 0o600 });
 * ```
 */
export function serializeJwtKeyset(keyset: JwtKeyset): string {
  const entries = JwtKeyset.internals.entries(keyset);
  // Never write what loadJwtKeyset would refuse (a compat-mode keyset's open-ended previous key).
  for (const [i, { info }] of entries.entries()) requireGraceEnd(info, `keys[${i}]`);
  const json: JwtKeysetJson = {
    custos: 'jwt-keyset',
    formatVersion: 1,
    keys: entries.map(({ info, material }) => ({
      kid: info.kid,
      alg: info.algorithm,
      status: info.status,
      createdAt: info.createdAt,
      ...(info.verifyUntil === undefined ? {} : { verifyUntil: info.verifyUntil }),
      jwk: material.privateJwk,
    })),
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * Loads a keyset from its JSON text or parsed object, checking every field: the algorithm,
 * that each key's type fits its algorithm, unique kids, exactly one current key, and a
 * `verifyUntil` on every previous key (one without it would verify forever). A bad keyset is
 * refused with `ERR_MALFORMED_KEYSET` naming the field; key material never appears in the
 * message. Protected text (`custos jwt protect`) is opened with `options.unlock`, or the keys
 * the environment names (`CUSTOS_KEY_PASSPHRASE_FILE`, `CUSTOS_KEY_IDENTITY`, …).
 *
 * @example
 * ```ts
 * const keyset = await loadJwtKeyset(await readFile('jwt-keys.json', 'utf8'));
 * ```
 */
export async function loadJwtKeyset(
  input: string | unknown,
  options: { readonly unlock?: KeyFileUnlockOptions | undefined } = {},
): Promise<JwtKeyset> {
  const text =
    typeof input === 'string' ? (await openKeyFile(input, 'keyset', options.unlock)).text : input;
  const root = object(typeof text === 'string' ? parseJson(text) : text, 'keyset');
  if (root.custos !== 'jwt-keyset') fail('keyset: "custos" must be "jwt-keyset"');
  if (root.formatVersion !== 1) fail('keyset: unsupported formatVersion (expected 1)');
  if (!Array.isArray(root.keys) || root.keys.length === 0) {
    fail('keyset: "keys" must be a non-empty array');
  }
  const entries = await Promise.all(
    (root.keys as unknown[]).map((raw, i) => loadEntry(raw, `keys[${i}]`)),
  );
  return new JwtKeyset(entries);
}

async function loadEntry(raw: unknown, at: string): Promise<KeyEntry> {
  const key = object(raw, at);
  const kid = string(key.kid, `${at}.kid`);
  const algorithm = key.alg;
  if (!isJwtAlgorithm(algorithm)) fail(`${at}.alg must be HS256, ES256, EdDSA or RS256`);
  if (key.status !== 'current' && key.status !== 'previous') {
    fail(`${at}.status must be "current" or "previous"`);
  }
  const createdAt = date(key.createdAt, `${at}.createdAt`);
  const verifyUntil =
    key.verifyUntil === undefined ? undefined : date(key.verifyUntil, `${at}.verifyUntil`);
  const jwk = object(key.jwk, `${at}.jwk`) as JWK;
  const material = await importKeyMaterial(algorithm as JwtAlgorithm, jwk).catch((err: Error) =>
    fail(`${at}.jwk: ${err.message}`),
  );
  const info: JwtKeyInfo = {
    kid,
    algorithm: algorithm as JwtAlgorithm,
    status: key.status as JwtKeyStatus,
    createdAt,
    ...(verifyUntil === undefined ? {} : { verifyUntil }),
  };
  requireGraceEnd(info, at);
  return { info, material };
}

/**
 * A previous key in a file must say when its grace window ends. Only compat mode builds
 * previous keys without one, from `*_PREVIOUS` variables whose removal ends the window; a file
 * has no such outside deadline, so an open-ended key there would verify forever.
 */
function requireGraceEnd(info: JwtKeyInfo, at: string): void {
  if (info.status === 'previous' && info.verifyUntil === undefined) {
    fail(
      `${at}.verifyUntil is missing: a previous key must carry the end of its grace window ` +
        `(remove the key, or rotate again with custos jwt rotate --grace)`,
    );
  }
}

function fail(message: string): never {
  throw new CustosError('ERR_MALFORMED_KEYSET', message);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // The parser's message can quote the text, which holds key material: never pass it on.
    return fail('keyset: not valid JSON');
  }
}

function object(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`${at} must be an object`);
  }
  return value as Record<string, unknown>;
}

function string(value: unknown, at: string): string {
  if (typeof value !== 'string' || value === '') fail(`${at} must be a non-empty string`);
  return value as string;
}

function date(value: unknown, at: string): string {
  if (typeof value !== 'string' || !ISO_DATE.test(value) || Number.isNaN(Date.parse(value))) {
    fail(`${at} must be an ISO 8601 UTC date`);
  }
  return value as string;
}

import { CustosError } from '../errors/index.js';
import { decodeBase64Strict } from '../lib/bytes.js';
import { isProtectedKeyFile } from '../stream/protected-armor.js';
import { aeadParameters, isAeadAlgorithm } from './aead.js';
import { KEY_ID_LENGTH } from './envelope.js';
import {
  isKeyName,
  KEY_NAME_RULE,
  Keyring,
  type KeyringOptions,
  type KeyVersionState,
  RANDOM_NONCE_ENCRYPTION_LIMIT,
} from './keyring.js';

/** The serialised form of a keyring (key material in base64). Keep it like a private key. */
export interface KeyringJson {
  readonly custos: 'keyring';
  readonly formatVersion: 1;
  readonly keys: readonly {
    readonly name: string;
    readonly id: string;
    readonly algorithm: string;
    readonly primaryVersion: number;
    readonly minDecryptionVersion: number;
    readonly encryptionLimit: number | null;
    readonly versions: readonly {
      readonly version: number;
      readonly state: KeyVersionState;
      readonly createdAt: string;
      readonly encryptions: number;
      /** Absent once the version is destroyed. */
      readonly key?: string;
    }[];
  }[];
}

/**
 * Serialises a keyring, key material included, as JSON text. Write it with mode 0600.
 *
 * @example
 * ```ts
 * await writeFile('keyring.json', serializeKeyring(keyring), { mode: 0o600 });
 * ```
 */
export function serializeKeyring(keyring: Keyring): string {
  const json: KeyringJson = {
    custos: 'keyring',
    formatVersion: 1,
    keys: [...Keyring.internals.records(keyring)].map((k) => ({
      name: k.name,
      id: k.idHex,
      algorithm: k.algorithm,
      primaryVersion: k.primaryVersion,
      minDecryptionVersion: k.minDecryptionVersion,
      encryptionLimit: k.encryptionLimit,
      versions: [...k.versions.values()].map((v) => ({
        version: v.version,
        state: v.state,
        createdAt: v.createdAt,
        encryptions: v.encryptions,
        ...(v.material ? { key: v.material.toString('base64') } : {}),
      })),
    })),
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

const STATES: readonly string[] = ['enabled', 'decrypt-only', 'disabled', 'destroyed'];
const KEY_ID = /^[0-9a-f]{16}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * Loads a keyring from its JSON text or parsed object, checking every field and invariant.
 * A malformed, truncated or inconsistent keyring is refused with `ERR_MALFORMED_KEYRING` and a
 * message naming the field; key material never appears in the message.
 *
 * @example
 * ```ts
 * const keyring = loadKeyring(await readFile('keyring.json', 'utf8'));
 * ```
 */
export function loadKeyring(input: string | unknown, options: KeyringOptions = {}): Keyring {
  const json = typeof input === 'string' ? parseJson(input) : input;
  const root = object(json, 'keyring');
  if (root.custos !== 'keyring') fail('keyring: "custos" must be "keyring"');
  if (root.formatVersion !== 1) fail('keyring: unsupported formatVersion (expected 1)');
  if (!Array.isArray(root.keys)) fail('keyring: "keys" must be an array');
  const keyring = new Keyring(options);
  root.keys.forEach((rawKey: unknown, i: number) => {
    const at = `keys[${i}]`;
    const key = object(rawKey, at);
    const name = string(key.name, `${at}.name`);
    if (!isKeyName(name)) fail(`${at}.name is not a valid key name: ${KEY_NAME_RULE}`);
    const id = string(key.id, `${at}.id`);
    if (!KEY_ID.test(id)) fail(`${at}.id must be ${KEY_ID_LENGTH * 2} lowercase hex characters`);
    const algorithm = key.algorithm;
    if (!isAeadAlgorithm(algorithm)) fail(`${at}.algorithm is not a supported algorithm`);
    const primaryVersion = positiveInteger(key.primaryVersion, `${at}.primaryVersion`);
    const minDecryptionVersion = positiveInteger(
      key.minDecryptionVersion,
      `${at}.minDecryptionVersion`,
    );
    const encryptionLimit = limit(key.encryptionLimit, aeadParameters[algorithm].randomNonce, at);
    if (!Array.isArray(key.versions) || key.versions.length === 0) {
      fail(`${at}.versions must be a non-empty array`);
    }
    let previous = 0;
    const versions = key.versions.map((rawVersion: unknown, j: number) => {
      const vat = `${at}.versions[${j}]`;
      const v = object(rawVersion, vat);
      const version = positiveInteger(v.version, `${vat}.version`);
      if (version <= previous) fail(`${vat}.version must be greater than the one before it`);
      previous = version;
      const state = v.state;
      if (typeof state !== 'string' || !STATES.includes(state)) {
        fail(`${vat}.state must be one of ${STATES.join(', ')}`);
      }
      const createdAt = string(v.createdAt, `${vat}.createdAt`);
      if (!ISO_DATE.test(createdAt)) fail(`${vat}.createdAt must be an ISO 8601 UTC timestamp`);
      const encryptions = nonNegativeInteger(v.encryptions, `${vat}.encryptions`);
      let material: Buffer | undefined;
      if (state === 'destroyed') {
        if (v.key !== undefined) fail(`${vat} is destroyed but still holds key material`);
      } else {
        material = keyMaterial(v.key, `${vat}.key`);
      }
      return { version, state: state as KeyVersionState, createdAt, encryptions, material };
    });
    const primary = versions.find((v: { version: number }) => v.version === primaryVersion);
    if (primary === undefined) fail(`${at}.primaryVersion names a version that does not exist`);
    if (primary.state !== 'enabled') fail(`${at}.primaryVersion must name an enabled version`);
    if (minDecryptionVersion > primaryVersion) {
      fail(`${at}.minDecryptionVersion must not exceed primaryVersion`);
    }
    try {
      Keyring.internals.restore(
        keyring,
        {
          name,
          id: Buffer.from(id, 'hex'),
          algorithm,
          encryptionLimit,
          primaryVersion,
          minDecryptionVersion,
        },
        versions,
      );
    } catch (err) {
      fail(`${at}: ${(err as Error).message}`);
    }
  });
  return keyring;
}

function parseJson(text: string): unknown {
  if (isProtectedKeyFile(text)) {
    throw new CustosError(
      'ERR_KEY_FILE_LOCKED',
      'this keyring is protected: read it with readKeyringFile(path, { unlock }), or pass loadKeyring the text of unprotectKeyFile(text, unlock)',
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse messages quote the input, which holds key material: never pass them on.
    fail('keyring is not valid JSON (is the file truncated or damaged?)');
  }
}

function fail(message: string): never {
  throw new CustosError('ERR_MALFORMED_KEYRING', message);
}

function object(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`${at} must be an object`);
  }
  return value as Record<string, unknown>;
}

function string(value: unknown, at: string): string {
  if (typeof value !== 'string') fail(`${at} must be a string`);
  return value;
}

function positiveInteger(value: unknown, at: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 0xffffffff) {
    fail(`${at} must be an integer from 1 to 2^32-1`);
  }
  return value as number;
}

function nonNegativeInteger(value: unknown, at: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    fail(`${at} must be a non-negative integer`);
  }
  return value as number;
}

function limit(value: unknown, randomNonce: boolean, at: string): number | null {
  if (!randomNonce) {
    if (value !== null && value !== undefined) fail(`${at}.encryptionLimit must be null`);
    return null;
  }
  if (!Number.isInteger(value) || (value as number) < 1) {
    fail(`${at}.encryptionLimit must be a positive integer`);
  }
  if ((value as number) > RANDOM_NONCE_ENCRYPTION_LIMIT) {
    fail(`${at}.encryptionLimit must not exceed 2^32 (NIST SP 800-38D)`);
  }
  return value as number;
}

function keyMaterial(value: unknown, at: string): Buffer {
  if (typeof value !== 'string') fail(`${at} must be a base64 string`);
  let bytes: Buffer;
  try {
    bytes = decodeBase64Strict(value, at);
  } catch {
    fail(`${at} is not valid base64`);
  }
  if (bytes.length !== 32) fail(`${at} must decode to 32 bytes, got ${bytes.length}`);
  return bytes;
}

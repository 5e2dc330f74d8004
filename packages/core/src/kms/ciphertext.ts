import { CustosError } from '../errors/index.js';

/** Vault's ciphertext prefix: `vault:v<version>:<base64>`. */
const PREFIX = 'vault:v';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function malformed(message: string): CustosError {
  return new CustosError('ERR_MALFORMED_CIPHERTEXT', message);
}

/**
 * Formats a versioned value as Vault does (`vault:v3:…`). `urlSafe` uses base64url (JWS
 * signatures); everything else standard base64.
 *
 * @example
 * ```ts
 * formatVersioned(2, sealed); // 'vault:v2:…'
 * ```
 */
export function formatVersioned(version: number, bytes: Uint8Array, urlSafe = false): string {
  return `${PREFIX}${version}:${Buffer.from(bytes).toString(urlSafe ? 'base64url' : 'base64')}`;
}

/**
 * Parses `vault:v<N>:<base64>` with Vault's error messages (as `ERR_MALFORMED_CIPHERTEXT`).
 * Version 0 reads as 1, as in Vault. The base64 must be canonical, so one value has one text.
 */
export function parseVersioned(
  value: unknown,
  urlSafe = false,
): { version: number; bytes: Buffer } {
  if (typeof value !== 'string' || !value.startsWith(PREFIX))
    throw malformed('invalid ciphertext: no prefix');
  const rest = value.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon === -1) throw malformed('invalid ciphertext: wrong number of fields');
  const versionText = rest.slice(0, colon);
  if (!/^\d{1,9}$/.test(versionText))
    throw malformed('invalid ciphertext: version number could not be decoded');
  const body = rest.slice(colon + 1);
  const pattern = urlSafe ? BASE64URL : BASE64;
  const bytes = Buffer.from(body, urlSafe ? 'base64url' : 'base64');
  if (!pattern.test(body) || bytes.toString(urlSafe ? 'base64url' : 'base64') !== body) {
    throw malformed('invalid ciphertext: could not decode base64');
  }
  return { version: Math.max(1, Number(versionText)), bytes };
}

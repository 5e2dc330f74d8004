/** How a secret value is written. `any` takes the text as UTF-8 bytes. */
export type ValueEncoding = 'hex' | 'base64' | 'base64url' | 'pem' | 'any';

/** @internal */
export const VALUE_ENCODINGS: readonly ValueEncoding[] = [
  'hex',
  'base64',
  'base64url',
  'pem',
  'any',
];

const HEX = /^[0-9a-fA-F]*$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const PEM = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)\r?\n?-----END \1-----\s*$/;

/**
 * Number of bytes `value` decodes to in `encoding`, or `undefined` when it is not valid in
 * that encoding. Hex accepts an optional `0x` prefix; base64 and base64url accept padding or
 * none; PEM accepts real line breaks or literal `\n` (as a single-line environment variable
 * holds them) and counts the bytes of the base64 body.
 *
 * @example
 * ```ts
 * decodedByteLength('0a1b2c', 'hex'); // 3
 * decodedByteLength('0a1b2', 'hex');  // undefined
 * ```
 */
export function decodedByteLength(value: string, encoding: ValueEncoding): number | undefined {
  switch (encoding) {
    case 'any':
      return Buffer.byteLength(value, 'utf8');
    case 'hex': {
      const digits = value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value;
      return digits.length > 0 && digits.length % 2 === 0 && HEX.test(digits)
        ? digits.length / 2
        : undefined;
    }
    case 'base64':
      return base64Length(value, BASE64);
    case 'base64url':
      return base64Length(value, BASE64URL);
    case 'pem':
      return pemLength(value);
  }
}

function base64Length(value: string, alphabet: RegExp): number | undefined {
  if (!alphabet.test(value)) return undefined;
  const body = value.replace(/=+$/, '');
  const padded = body.length !== value.length;
  if (body.length % 4 === 1 || (padded && value.length % 4 !== 0)) return undefined;
  return Math.floor((body.length * 6) / 8);
}

function pemLength(value: string): number | undefined {
  const text = value.includes('\n') ? value : value.replace(/\\n/g, '\n');
  const match = PEM.exec(text.trim());
  if (match === null) return undefined;
  // Legacy encrypted PEM carries "Name: value" headers before a blank line; skip them.
  const lines = (match[2] as string).split(/\r?\n/);
  const body = lines
    .filter((line) => !line.includes(':'))
    .join('')
    .replace(/\s+/g, '');
  return body.length === 0 ? undefined : base64Length(body, BASE64);
}

/**
 * Estimated entropy of a text in bits: its length times the Shannon entropy of its own
 * character distribution. It cannot prove a value random, but it gives a floor against the
 * usual mistakes: repeated characters (`aaaaaaaa…`: 0 bits), a word said twice, a short
 * alphabet. A random 64-character hex string scores about 240 bits, 32 random alphanumerics
 * about 150.
 *
 * @example
 * ```ts
 * estimateEntropyBits('aaaaaaaaaaaaaaaa'); // 0
 * estimateEntropyBits('passwordpassword'); // ≈ 44
 * ```
 */
export function estimateEntropyBits(value: string): number {
  const counts = new Map<string, number>();
  let length = 0;
  for (const char of value) {
    counts.set(char, (counts.get(char) ?? 0) + 1);
    length++;
  }
  let bits = 0;
  for (const count of counts.values()) bits -= count * Math.log2(count / length);
  return bits;
}

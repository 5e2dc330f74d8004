import { CustosError } from '../errors/index.js';

/**
 * The text armor of a protected key file (`FORMAT.md`). It depends on nothing heavy, so every
 * loader can tell a protected file from a plain one without loading the backup code.
 */
const BEGIN = '-----BEGIN CUSTOS PROTECTED KEY FILE-----';
const END = '-----END CUSTOS PROTECTED KEY FILE-----';
const LINE_WIDTH = 64;

/**
 * Whether `text` is a protected key file (made by `protectKeyFile`).
 *
 * @example
 * ```ts
 * if (isProtectedKeyFile(await readFile('keyring.json', 'utf8'))) console.log('protected');
 * ```
 */
export function isProtectedKeyFile(text: string): boolean {
  return text.trimStart().startsWith(BEGIN);
}

/** Armors the bytes of a backup as text, 64 characters of base64 a line. */
export function armor(bytes: Buffer): string {
  const b64 = bytes.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += LINE_WIDTH) lines.push(b64.slice(i, i + LINE_WIDTH));
  return `${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}

/** The bytes of an armored backup; `ERR_MALFORMED_CIPHERTEXT` for a cut or damaged armor. */
export function unarmor(text: string, what: string): Buffer {
  const body = text.trim();
  if (!body.startsWith(BEGIN) || !body.endsWith(END)) {
    throw new CustosError(
      'ERR_MALFORMED_CIPHERTEXT',
      `${what} is protected but cut off (no end line)`,
    );
  }
  const b64 = body.slice(BEGIN.length, body.length - END.length).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    throw new CustosError(
      'ERR_MALFORMED_CIPHERTEXT',
      `${what} is protected but its text is damaged`,
    );
  }
  return Buffer.from(b64, 'base64');
}

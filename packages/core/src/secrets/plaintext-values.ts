import { CustosError } from '../errors/index.js';
import { isEncryptedValue } from './env-crypt.js';
import { secretKindOfName } from './secret-names.js';
import { urlSecretParts } from './url-secrets.js';

const VARIABLE_LINE = /^\s*(?:export\s+)?([\w.-]+)\s*(?:=|:\s)/;
/** `# custos: plaintext`, alone on a line or ending a variable's line (as example directives). */
const MARKER = /#\s*custos:\s*plaintext\s*$/i;

/**
 * The names a dotenv text marks as deliberately plain: `# custos: plaintext` at the end of the
 * variable's line, or alone on a line before it (it covers the next variable only). Such a value
 * may stay readable in a file of `enc:` values, and `custos env encrypt` leaves it so.
 *
 * @example
 * ```ts
 * plaintextMarkedNames('# custos: plaintext\nSTRIPE_PUBLISHABLE_KEY=pk_live_1\n'); // {'STRIPE_PUBLISHABLE_KEY'}
 * ```
 * @internal
 */
export function plaintextMarkedNames(text: string): Set<string> {
  const names = new Set<string>();
  let pending = false;
  for (const line of text.split(/\r?\n/)) {
    const variable = VARIABLE_LINE.exec(line);
    if (variable === null) {
      if (/^\s*#/.test(line) && MARKER.test(line)) pending = true;
      continue;
    }
    if (pending || MARKER.test(line)) names.add(variable[1] as string);
    pending = false;
  }
  return names;
}

/**
 * Whether a value of a file that holds `enc:` values is a plaintext secret nobody marked as
 * plain: a non-empty, unencrypted value under a secret-looking name (see `secretKindOfName`),
 * or a URL carrying a password or a webhook secret — the trace of an encrypted value replaced
 * by one someone knows. @internal
 */
export function isUnmarkedPlaintextSecret(
  name: string,
  value: string,
  marked: ReadonlySet<string>,
): boolean {
  if (value === '' || isEncryptedValue(value) || marked.has(name)) return false;
  return secretKindOfName(name) !== undefined || urlSecretParts(value) !== undefined;
}

/**
 * What is said about such a value in `file`, when `encryptedFile` (the same file, or another one
 * loaded with it) holds `enc:` values — `overrides` when it holds this very name encrypted: the
 * variable and the files, never the value. @internal
 */
export function plaintextValueMessage(
  name: string,
  file: string,
  encryptedFile: string,
  overrides = false,
): string {
  const context =
    encryptedFile === file
      ? 'but the file holds enc: values: an encrypted value may have been replaced'
      : overrides
        ? `and overrides the enc: value of ${name} in ${encryptedFile}: an encrypted value may have been replaced`
        : `while ${encryptedFile} holds enc: values: an encrypted value may have been moved here and replaced`;
  return `${name} in ${file} is plaintext, ${context}. Encrypt it (custos env encrypt ${file}), or mark it as meant to be readable with a "# custos: plaintext" comment on its line or the line above`;
}

/** The production refusal (`ERR_ENV_VALUE_PLAINTEXT`). @internal */
export function plaintextValueRefused(
  name: string,
  file: string,
  encryptedFile: string,
  overrides = false,
): CustosError {
  return new CustosError(
    'ERR_ENV_VALUE_PLAINTEXT',
    plaintextValueMessage(name, file, encryptedFile, overrides),
  );
}

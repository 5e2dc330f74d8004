import { minifiedByName } from '../files/classify.js';
import { isPkcs12Path } from '../files/pkcs12.js';
import { isCodePath } from '../rules/generic-assignment.js';

/**
 * What a path tells the scanner about the content it holds: whether it is a PKCS#12 key store
 * (reported whole), code (the generic rule reads only quoted values there) and what makes it
 * minified (`minifiedByName`). The same content under two paths of one class gives the same
 * findings, but for the place and the lower confidence of a test fixture (`isFixturePath`),
 * which a history scan applies per path without scanning again.
 *
 * Why a class and not one path per blob: a blob first committed as `src/config.ts` and copied to
 * `deploy/app.env` holds an unquoted `password = …` that is code in the first and a secret in
 * the second; one first seen as `dist/app.min.js` is skipped as minified there but not as
 * `app.env`. Scanning once under the first path would miss both, scanning under every path
 * would repeat the work unique-blob scanning saves; a blob nearly always keeps one class, so
 * once per class costs nothing in practice.
 *
 * @example
 * ```ts
 * syntaxClass('a.env') === syntaxClass('b.txt'); // true
 * syntaxClass('a.env') === syntaxClass('a.ts'); // false
 * ```
 */
export function syntaxClass(path: string): string {
  return `${isPkcs12Path(path) ? 'p' : '-'}${isCodePath(path) ? 'c' : '-'}${minifiedByName(path) ?? '-'}`;
}

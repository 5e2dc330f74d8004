import { randomInt } from 'node:crypto';
import { invalidParameter } from './aws-error.js';
import { optionalBool, optionalInt, optionalString } from './aws-fields.js';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
/** AWS's punctuation set for GetRandomPassword. */
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/**
 * GetRandomPassword: a password from `node:crypto`'s `randomInt`, with AWS's options (length
 * 1–4096, default 32; character classes to exclude; one of each included class by default).
 *
 * @example
 * ```ts
 * getRandomPassword({ PasswordLength: 20, ExcludePunctuation: true }); // { RandomPassword: '…' }
 * ```
 */
export function getRandomPassword(body: Record<string, unknown>): { RandomPassword: string } {
  const length = optionalInt(body.PasswordLength, 'PasswordLength', 1, 4096) ?? 32;
  const exclude = new Set(optionalString(body.ExcludeCharacters, 'ExcludeCharacters', 4096) ?? '');
  const pick = (set: string, excluded: boolean | undefined) =>
    excluded === true ? '' : [...set].filter((c) => !exclude.has(c)).join('');
  const classes = [
    pick(LOWER, optionalBool(body.ExcludeLowercase, 'ExcludeLowercase')),
    pick(UPPER, optionalBool(body.ExcludeUppercase, 'ExcludeUppercase')),
    pick(DIGITS, optionalBool(body.ExcludeNumbers, 'ExcludeNumbers')),
    pick(PUNCTUATION, optionalBool(body.ExcludePunctuation, 'ExcludePunctuation')),
    optionalBool(body.IncludeSpace, 'IncludeSpace') === true && !exclude.has(' ') ? ' ' : '',
  ].filter((c) => c.length > 0);
  if (classes.length === 0) throw invalidParameter('the options exclude every character');
  const requireEach = optionalBool(body.RequireEachIncludedType, 'RequireEachIncludedType') ?? true;
  if (requireEach && length < classes.length)
    throw invalidParameter('PasswordLength is too short to include each character type');
  const all = classes.join('');
  const chars = Array.from({ length }, () => all[randomInt(all.length)] as string);
  if (requireEach) {
    // One character of each class, at distinct random positions.
    const positions = [...Array(length).keys()];
    for (const set of classes) {
      const at = positions.splice(randomInt(positions.length), 1)[0] as number;
      chars[at] = set[randomInt(set.length)] as string;
    }
  }
  return { RandomPassword: chars.join('') };
}

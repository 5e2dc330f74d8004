import { CustosError } from '../errors/index.js';

/**
 * Characters a WHATWG URL parser (what `fetch` uses) would not carry through as they are: `\`
 * (a path separator in http(s) URLs), `#` (starts a fragment, never sent), tab, CR and LF
 * (removed anywhere in a URL), other controls, space and DEL (stripped at the ends of a URL).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const UNSAFE_CHARACTER = /[\x00-\x20\x7f\\#]/;
/** `.` and `..`, also with the dots percent-encoded: a URL parser resolves them all alike. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * Checks an API path before it becomes a URL (`secret/data/app/db`, `transit/encrypt/k?x=1`),
 * so the request reaches the route it names and no other: a URL parser resolves `..` and `.`
 * segments (`%2e%2e` too) and backslashes before anything is sent, which would turn
 * `secret/data/../../sys/policies/acl/default` into a request for the policy — past the
 * server's own refusal of `..`, which then never sees it. Refused (`ERR_INVALID_ARGUMENT`):
 * a `.` or `..` segment in any spelling, an empty segment (`a//b`; only a final `/`, as in a
 * list request, is allowed), and a backslash, `#`, space or control character anywhere.
 * Leading slashes are dropped; the query (after `?`) is checked for characters only.
 *
 * Returns the path without its leading slashes. `redact` is applied to the path where a
 * message shows it (the client's scrubber: a path is no place for a token, but never echo one).
 *
 * @example
 * ```ts
 * checkRequestPath('/secret/data/app/db'); // 'secret/data/app/db'
 * checkRequestPath('secret/metadata/app/?list=true'); // allowed: a final slash lists a folder
 * checkRequestPath('secret/data/../../sys/policies/acl/x'); // throws ERR_INVALID_ARGUMENT
 * ```
 * @internal
 */
export function checkRequestPath(path: string, redact: (text: string) => string = String): string {
  const trimmed = path.replace(/^\/+/, '');
  const refuse = (why: string) =>
    new CustosError(
      'ERR_INVALID_ARGUMENT',
      `refusing the request path ${redact(JSON.stringify(path))}: ${why}`,
    );
  if (UNSAFE_CHARACTER.test(trimmed)) {
    throw refuse(
      'it holds a backslash, "#", a space or a control character, which the URL parser would treat as a separator, cut off or drop; percent-encode names (encodeURIComponent)',
    );
  }
  const query = trimmed.indexOf('?');
  const segments = (query < 0 ? trimmed : trimmed.slice(0, query)).split('/');
  if (segments.every((segment) => segment === '')) throw refuse('it names no route');
  segments.forEach((segment, index) => {
    if (DOT_SEGMENT.test(segment)) {
      throw refuse(
        'a "." or ".." segment (also percent-encoded) would be resolved by the URL parser before sending, so the request would reach another route',
      );
    }
    if (segment === '' && index < segments.length - 1) {
      throw refuse('it has an empty segment ("//")');
    }
  });
  return trimmed;
}

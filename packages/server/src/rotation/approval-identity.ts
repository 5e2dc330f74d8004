import type { TokenEntry } from '../auth/token-entry.js';
import { ANONYMOUS_PERSON, type TokenStore } from '../auth/token-store.js';
import { ServerError } from '../errors.js';

/** Display names that name nobody: a token created without `display_name`. */
const ANONYMOUS = new Set(['', ANONYMOUS_PERSON]);

/**
 * Who a token acts for, as two-person approval counts people: the display name of the root of
 * its token tree (`token-alice`, `approle-deploy`, `root`). A child token is its creator's, so
 * a requester cannot approve with a token they made; two tokens one person got by logging in
 * twice (or created with one `display_name`) are one identity. An orphan a token other than
 * root made (through an orphan role, `create-orphan`, `no_parent`, or left by `revoke-orphan`)
 * acts for its maker, whatever display name it chose. A token whose tree has no
 * display name (`token`), or whose ancestors are gone, has no identity: refused
 * (`ERR_APPROVAL_REFUSED`) rather than counted as someone.
 *
 * @example
 * ```ts
 * const who = await approvalIdentity(tokens, request.custos.entry); // 'token-alice'
 * ```
 */
export async function approvalIdentity(
  tokens: Pick<TokenStore, 'personOf'>,
  entry: TokenEntry | undefined,
): Promise<string> {
  // A root token is the person its own display name says (`root`).
  const person =
    entry === undefined ? undefined : ((await tokens.personOf(entry)) ?? entry.displayName);
  if (person === undefined || ANONYMOUS.has(person))
    throw new ServerError(
      'ERR_APPROVAL_REFUSED',
      'the token has no identity for approvals: its token tree must start at a token with a display_name (or a login)',
    );
  return person;
}

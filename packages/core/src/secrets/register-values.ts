import type { Scrubber } from '../redaction/scrubber.js';
import { urlSecretParts } from './url-secrets.js';

/**
 * Registers with `scrubber` what a value read for a variable exposes: the whole value of a
 * secret; for a plain setting, only the credential a URL carries (DATABASE_URL's password, a
 * webhook URL), so ordinary settings such as `arweave` are not erased from logs. Called for
 * every value read, valid or not, so a value that fails its rule is scrubbed too.
 * @internal
 */
export function registerReadValue(scrubber: Scrubber, value: string, sensitive: boolean): void {
  if (sensitive) scrubber.add(value);
  else for (const part of urlSecretParts(value)?.parts ?? []) scrubber.add(part);
}

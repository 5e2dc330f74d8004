import type { Finding } from '../engine/finding.js';
import { isReported } from '../engine/finding-filter.js';
import { fingerprintSecret } from '../engine/fingerprint.js';
import type { ScanTextOptions } from '../engine/scan-text.js';

const PKCS12 = /\.(?:p12|pfx)$/i;

/** The rule id of a PKCS#12 key store's finding (never lowered in a test fixture). */
export const PKCS12_RULE = 'pkcs12-file';

/**
 * Whether `path` names a PKCS#12 key store (`.p12`, `.pfx`): binary, reported as a whole.
 *
 * @example
 * ```ts
 * isPkcs12Path('certs/client.P12'); // true
 * ```
 */
export function isPkcs12Path(path: string): boolean {
  return PKCS12.test(path);
}

/**
 * The finding of a PKCS#12 key store: the whole file (`pkcs12-file`, the fingerprint of its
 * bytes), when the run's filters report it. Directory and history scans report it alike.
 *
 * @example
 * ```ts
 * const findings = pkcs12Finding({ relative: 'certs/client.p12' }, await readFile(path), {});
 * ```
 */
export function pkcs12Finding(
  file: { readonly relative: string },
  content: Buffer,
  options: Omit<ScanTextOptions, 'name'>,
): Finding[] {
  const finding: Finding = {
    rule: PKCS12_RULE,
    file: file.relative,
    line: 1,
    column: 1,
    endLine: 1,
    endColumn: 1,
    fingerprint: fingerprintSecret(content.toString('base64'), options.fingerprintKey),
    confidence: 'medium',
    redacted: '…',
  };
  return isReported(finding, options) ? [finding] : [];
}

import { readFile } from 'node:fs/promises';
import { CustosError } from '@custos/core/errors';

/**
 * A baseline: the fingerprints of findings accepted earlier, so that only new secrets are
 * reported. Keyed on the secret, not its place, so moved or reformatted code does not bring a
 * finding back. The file is the JSON report itself (`custos scan --format json > baseline.json`).
 */
export type Baseline = ReadonlySet<string>;

/**
 * Reads a baseline from a JSON report (`{"findings":[{"fingerprint":…}]}`) or a plain array of
 * fingerprints.
 *
 * @example
 * ```ts
 * const baseline = parseBaseline(await readFile('.custos-baseline.json', 'utf8'));
 * ```
 */
export function parseBaseline(json: string): Baseline {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new CustosError('ERR_SCAN_CONFIG', 'the baseline is not valid JSON');
  }
  const entries = Array.isArray(parsed)
    ? parsed
    : typeof parsed === 'object' &&
        parsed !== null &&
        Array.isArray((parsed as { findings?: unknown }).findings)
      ? (parsed as { findings: unknown[] }).findings
      : null;
  if (entries === null) {
    throw new CustosError(
      'ERR_SCAN_CONFIG',
      'a baseline is a JSON report ({"findings":[…]}) or an array of fingerprints',
    );
  }
  const fingerprints = new Set<string>();
  for (const entry of entries) {
    const fingerprint =
      typeof entry === 'string'
        ? entry
        : typeof entry === 'object' && entry !== null
          ? (entry as { fingerprint?: unknown }).fingerprint
          : undefined;
    if (typeof fingerprint === 'string') fingerprints.add(fingerprint);
  }
  return fingerprints;
}

/**
 * Reads a baseline file; errors name it.
 *
 * @example
 * ```ts
 * const baseline = await readBaseline('.custos-baseline.json');
 * ```
 */
export async function readBaseline(path: string): Promise<Baseline> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CustosError('ERR_SCAN_CONFIG', `the baseline ${path} cannot be read`);
  }
  try {
    return parseBaseline(text);
  } catch (err) {
    // Name the file: a scan may read a baseline from the flags or from the settings file.
    throw new CustosError('ERR_SCAN_CONFIG', `${path}: ${(err as CustosError).message}`);
  }
}

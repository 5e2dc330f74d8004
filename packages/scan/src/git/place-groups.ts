import type { Finding } from '../engine/finding.js';
import { isReported } from '../engine/finding-filter.js';
import type { ScanTextOptions } from '../engine/scan-text.js';
import { PKCS12_RULE } from '../files/pkcs12.js';
import { isFixturePath } from '../filters/fixture-paths.js';
import type { AllowlistMatcher } from '../policy/allowlist.js';
import { weaker } from '../rules/rule.js';
import type { BlobPlace } from './blob-origins.js';
import { syntaxClass } from './syntax-class.js';

/**
 * The places of a blob to scan it for, grouped by {@link syntaxClass} (in the order each class
 * first appears): every path that is not allowlisted, in each group those that are not test
 * fixtures first, each part oldest first. The blob is scanned once per group, under its first
 * place; none when every path it had is allowlisted.
 *
 * @example
 * ```ts
 * const groups = placeGroups(origin.places, compileAllowlist({ paths: ['docs/**'] }));
 * const names = groups.map((group) => group[0]?.path);
 * ```
 */
export function placeGroups(
  places: readonly BlobPlace[],
  allowlist: AllowlistMatcher,
): BlobPlace[][] {
  const groups = new Map<string, { real: BlobPlace[]; fixtures: BlobPlace[] }>();
  for (const place of places) {
    if (allowlist.allowsPath(place.path)) continue;
    const key = syntaxClass(place.path);
    let group = groups.get(key);
    if (group === undefined) {
      group = { real: [], fixtures: [] };
      groups.set(key, group);
    }
    (isFixturePath(place.path) ? group.fixtures : group.real).push(place);
  }
  return [...groups.values()].map(({ real, fixtures }) => [...real, ...fixtures]);
}

/** A finding of a history scan, with the rank in history of the place it is reported at. */
export interface PlacedFinding {
  readonly finding: Finding;
  readonly order: number;
}

/**
 * Where a finding made under a group's first place is reported: at the first place of the group
 * (in {@link placeGroups}' order) where the run reports it (`isReported`: a fixture's lower
 * confidence may fall below `minConfidence`) and `ignore` does not leave it out (a
 * `.gitleaksignore` entry names one file, line and commit), with the commit that introduced
 * the blob there; `undefined` when it is reported nowhere.
 *
 * @example
 * ```ts
 * const placed = placeFinding(finding, group, options, (f) => isGitleaksIgnored(entries, f));
 * ```
 */
export function placeFinding(
  finding: Finding,
  group: readonly BlobPlace[],
  options: Pick<ScanTextOptions, 'allowlist' | 'baseline' | 'minConfidence'>,
  ignore: ((finding: Finding) => boolean) | undefined,
): PlacedFinding | undefined {
  // What the engine does for text (a PKCS#12 file is reported alike everywhere): lower the
  // confidence in a test fixture. The first place is a fixture only when every place is.
  const lowered =
    finding.rule !== PKCS12_RULE && !isFixturePath((group[0] as BlobPlace).path)
      ? weaker(finding.confidence)
      : finding.confidence;
  for (const place of group) {
    const confidence = isFixturePath(place.path) ? lowered : finding.confidence;
    const placed: Finding = {
      ...finding,
      file: place.path,
      confidence,
      ...(place.commit !== undefined ? { commit: place.commit } : {}),
      ...(place.author !== undefined ? { author: place.author } : {}),
      ...(place.date !== undefined ? { date: place.date } : {}),
    };
    if (isReported(placed, options) && ignore?.(placed) !== true) {
      return { finding: placed, order: place.order };
    }
  }
  return undefined;
}

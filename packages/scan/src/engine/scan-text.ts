import { isFixturePath } from '../filters/fixture-paths.js';
import { isPlaceholder, isReference } from '../filters/placeholders.js';
import { isProtectedValue } from '../filters/protected-values.js';
import type { Allowlist } from '../policy/allowlist.js';
import type { Baseline } from '../policy/baseline.js';
import { defaultRules } from '../rules/catalog.js';
import {
  type Candidate,
  CONFIDENCE_LEVELS,
  type Confidence,
  decodedRange,
  judgedText,
  type Rule,
  type RuleContext,
  weaker,
} from '../rules/rule.js';
import type { Finding } from './finding.js';
import { isReported } from './finding-filter.js';
import { fingerprintSecret } from './fingerprint.js';
import { isIgnoredInline } from './inline-ignore.js';
import { oneByteText } from './one-byte-text.js';
import { LineIndex } from './positions.js';
import { prefilterFor, type Selection } from './prefilter.js';
import { redactSecret } from './redact.js';
import { Utf8Ranges } from './utf8-ranges.js';
import { textWindows, WINDOW_LENGTH } from './windows.js';

/**
 * Options of {@link scanText}; `scanPaths` takes the same.
 *
 * @example
 * ```ts
 * const options: ScanTextOptions = { name: 'config/.env', minConfidence: 'medium' };
 * ```
 */
export interface ScanTextOptions {
  /** The file name shown in findings; also tells code from configuration and marks test fixtures. */
  readonly name?: string;
  /** The rules to run (default: {@link defaultRules}). */
  readonly rules?: readonly Rule[];
  /** Key of the fingerprints (default: the documented `DEFAULT_FINGERPRINT_KEY`). */
  readonly fingerprintKey?: string;
  readonly allowlist?: Allowlist;
  /** Fingerprints of accepted findings, not reported again. */
  readonly baseline?: Baseline;
  /** Report only findings at least this sure (default `low`: everything). */
  readonly minConfidence?: Confidence;
}

interface Located {
  readonly rule: Rule;
  readonly candidate: Candidate;
}

function isStandIn(secret: string): boolean {
  return isPlaceholder(secret) || isReference(secret) || isProtectedValue(secret);
}

function rank(entry: Located): [number, number, number, number] {
  const { rule, candidate } = entry;
  return [
    rule.priority,
    candidate.veto ? 1 : 0,
    -CONFIDENCE_LEVELS.indexOf(candidate.confidence),
    candidate.end - candidate.start,
  ];
}

function better(a: Located, b: Located): boolean {
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < ra.length; i++) {
    if ((ra[i] as number) !== (rb[i] as number)) return (ra[i] as number) > (rb[i] as number);
  }
  return false;
}

/**
 * Keeps one finding per stretch of text: the most specific rule's. A veto (a token whose
 * checksum fails) takes its stretch away from less specific rules and reports nothing.
 */
function removeOverlaps(found: Located[]): Located[] {
  found.sort((a, b) => a.candidate.start - b.candidate.start);
  const kept: Located[] = [];
  for (const entry of found) {
    const last = kept.at(-1);
    if (last !== undefined && entry.candidate.start < last.candidate.end) {
      if (better(entry, last)) kept[kept.length - 1] = entry;
      continue;
    }
    kept.push(entry);
  }
  return kept.filter((entry) => entry.candidate.veto !== true);
}

/**
 * Scans one text for secrets. Only the rules whose keywords occur in the text run; candidates
 * that are placeholders, references, ciphertexts or hashes are dropped, as are findings
 * silenced inline (`custos-ignore`), allowlisted or in the baseline. Findings in test fixtures
 * (by `name`) are reported one confidence level lower.
 *
 * @example
 * ```ts
 * import { scanText } from '@custos/scan';
 * const findings = scanText(await readFile('.env', 'utf8'), { name: '.env' });
 * for (const f of findings) console.warn(`${f.file}:${f.line}:${f.column} ${f.rule} ${f.redacted}`);
 * ```
 */
export function scanText(text: string, options: ScanTextOptions = {}): Finding[] {
  return scanPrepared(text, { name: options.name ?? '' }, options);
}

/**
 * Scans the UTF-8 `bytes` of a file: the same findings as {@link scanText} of the decoded text,
 * found in about half the time. The built-in rules search a one-byte form of the text in
 * which characters above U+00FF are stand-ins they cannot tell from the originals
 * (`oneByteText`); what they judge, and every finding's secret, is read from the decoded text,
 * which is only decoded when a match holds such a character. Custom `rules` read the decoded
 * text.
 *
 * @example
 * ```ts
 * import { scanBytes } from '@custos/scan';
 * const findings = scanBytes(await readFile('config/app.yaml'), { name: 'config/app.yaml' });
 * ```
 */
export function scanBytes(bytes: Uint8Array, options: ScanTextOptions = {}): Finding[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Custom rules may match any character: they read the decoded text.
  const text = options.rules === undefined ? oneByteText(buffer) : undefined;
  if (text === undefined) return scanText(buffer.toString('utf8'), options);
  let decoded: string | undefined;
  let ranges: Utf8Ranges | undefined;
  const context: RuleContext = {
    name: options.name ?? '',
    decoded: () => {
      decoded ??= buffer.toString('utf8');
      return decoded;
    },
    decodedSlice: (start, end) => {
      if (decoded !== undefined) return decoded.slice(start, end);
      ranges ??= new Utf8Ranges(buffer);
      return ranges.slice(start, end);
    },
  };
  return scanPrepared(text, context, options);
}

/** The candidates of the rules the prefilter chose for `text`, stand-ins dropped. */
function locate(text: string, context: RuleContext, selection: Selection): Located[] {
  const found: Located[] = [];
  const ruleContext: RuleContext = selection.keywordMatches
    ? { ...context, keywordMatches: selection.keywordMatches }
    : context;
  for (const rule of selection.rules) {
    for (const candidate of rule.find(text, ruleContext)) {
      if (
        rule.structured !== true &&
        isStandIn(judgedText(text, candidate.start, candidate.end, context))
      ) {
        continue;
      }
      found.push({ rule, candidate });
    }
  }
  return found;
}

const ruleOrders = new WeakMap<readonly Rule[], ReadonlyMap<Rule, number>>();

/** Each rule's place in its set: candidates starting together keep the order one pass gives. */
function orderOf(rules: readonly Rule[]): ReadonlyMap<Rule, number> {
  let order = ruleOrders.get(rules);
  if (order === undefined) {
    order = new Map(rules.map((rule, index) => [rule, index]));
    ruleOrders.set(rules, order);
  }
  return order;
}

/** The selection's rules that read far (`wholeText`), or the others. */
function narrowed(selection: Selection, wholeText: boolean): Selection {
  return {
    ...selection,
    rules: selection.rules.filter((rule) => (rule.wholeText === true) === wholeText),
  };
}

/**
 * {@link locate} on a long text: the rules that read far (`wholeText`) over all of it, the
 * others window by window (`textWindows`), each window keeping the candidates that start in
 * its own stretch, at their offsets in the whole text. One keyword pass serves both.
 */
function locateByWindow(text: string, context: RuleContext, rules: readonly Rule[]): Located[] {
  const windows = textWindows(text.length);
  const { whole, parts } = prefilterFor(rules).selectEach(text, windows);
  const found = locate(text, context, narrowed(whole, true));
  const { decoded, decodedSlice, ...rest } = context;
  windows.forEach((window, index) => {
    let part: string | undefined;
    // A window's decoded text is decoded from its own bytes when the scanner holds them.
    const partContext: RuleContext =
      decoded === undefined
        ? context
        : {
            ...rest,
            decoded: () => {
              part ??= decodedRange(context, window.from, window.to, decoded);
              return part;
            },
          };
    const partText = text.slice(window.from, window.to);
    const selection = narrowed(parts[index] as Selection, false);
    for (const { rule, candidate } of locate(partText, partContext, selection)) {
      const start = candidate.start + window.from;
      if (start < window.ownFrom || start >= window.ownTo) continue;
      found.push({ rule, candidate: { ...candidate, start, end: candidate.end + window.from } });
    }
  });
  const order = orderOf(rules);
  return found.sort(
    (a, b) =>
      a.candidate.start - b.candidate.start ||
      (order.get(a.rule) as number) - (order.get(b.rule) as number),
  );
}

function scanPrepared(text: string, context: RuleContext, options: ScanTextOptions): Finding[] {
  const rules = options.rules ?? defaultRules;
  const name = context.name ?? '';
  const found =
    text.length > 2 * WINDOW_LENGTH
      ? locateByWindow(text, context, rules)
      : locate(text, context, prefilterFor(rules).select(text));
  if (found.length === 0) return [];
  const fixture = isFixturePath(name);
  const lines = new LineIndex(text);
  const findings: Finding[] = [];
  for (const { rule, candidate } of removeOverlaps(found)) {
    const start = lines.position(candidate.start);
    const end = lines.position(candidate.end);
    if (isIgnoredInline(lines, start, end)) continue;
    const secret = judgedText(text, candidate.start, candidate.end, context);
    const finding: Finding = {
      rule: candidate.ruleId ?? rule.id,
      file: name,
      line: start.line,
      column: start.column,
      endLine: end.line,
      endColumn: end.column,
      fingerprint: fingerprintSecret(secret, options.fingerprintKey),
      confidence: fixture ? weaker(candidate.confidence) : candidate.confidence,
      redacted: redactSecret(secret),
    };
    if (isReported(finding, options)) findings.push(finding);
  }
  return findings;
}

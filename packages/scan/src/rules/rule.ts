import type { KeywordMatch } from '../engine/keyword-search.js';

/**
 * How sure a finding is: `high` (a checksum or an unambiguous structure), `medium` (a provider
 * shape, or a strong value assigned to a secret-looking name), `low` (weak evidence, or found in
 * a test fixture).
 */
export type Confidence = 'high' | 'medium' | 'low';

/** The confidence levels from strongest to weakest. */
export const CONFIDENCE_LEVELS: readonly Confidence[] = ['high', 'medium', 'low'];

/** A candidate a rule found: where the secret lies in the scanned text. */
export interface Candidate {
  /** Offset of the secret's first character (UTF-16 code units). */
  readonly start: number;
  /** Offset just past the secret. */
  readonly end: number;
  readonly confidence: Confidence;
  /** A more precise id than the rule's own, when one rule reports several kinds. */
  readonly ruleId?: string;
  /**
   * The rule recognised these characters and found them not to be a live credential (a bad
   * checksum): nothing is reported, and less specific rules may not report them either.
   */
  readonly veto?: true;
}

/**
 * A detection rule, written from the provider's documentation of its token format.
 *
 * @example
 * ```ts
 * const rule: Rule = patternRule({
 *   id: 'acme-token', description: 'Acme API token', source: 'https://acme.example/docs/tokens',
 *   keywords: ['acme_'], confidence: 'high', pattern: /\bacme_(?<secret>[A-Za-z0-9]{32})\b/g,
 * });
 * ```
 */
export interface Rule {
  /** Stable id, kebab-case: used in findings, allowlists and SARIF. */
  readonly id: string;
  readonly description: string;
  /** Where the provider documents the format this rule follows. */
  readonly source: string;
  /**
   * Lowercase strings of which at least one must occur in the text for the rule to run (the
   * prefilter). Empty: the rule always runs.
   */
  readonly keywords: readonly string[];
  /** The confidence of a plain match, before validation and path adjustments. */
  readonly confidence: Confidence;
  /** Ids this rule may report besides its own (see {@link Candidate.ruleId}). */
  readonly variants?: readonly string[];
  /** A specific rule wins over a generic one when both report the same characters. */
  readonly priority: number;
  /**
   * The secret is a structured block (a private key) whose encoding legitimately holds what
   * placeholder filters look for (runs such as `AAAAAA`): those filters are not applied.
   */
  readonly structured?: boolean;
  /**
   * A match, with what the rule reads around it, may span more than a few KiB (a private key's
   * block): on a long text the rule runs over the whole of it. Every other rule runs window by
   * window there, each window's text with 4 KiB (`WINDOW_MARGIN`) around the stretch it reports
   * for; a match longer than that could be missed where it crosses into the next stretch.
   */
  readonly wholeText?: boolean;
  /** Finds candidates in `text`. */
  find(text: string, context?: RuleContext): Iterable<Candidate>;
}

/** What a rule may know about the text besides its content. */
export interface RuleContext {
  /**
   * The file's path or name (its extension tells code from configuration). A history scan reads
   * a blob once per class of its paths (`git/syntax-class.ts`): a rule that reads the name for
   * something else must add it to that class.
   */
  readonly name?: string;
  /**
   * Present when the text a rule reads holds stand-ins for the characters above U+00FF (the
   * scanner's one-byte form of a file, see `oneByteText`): the text as decoded, with the same
   * offsets. Patterns find the same matches in both; what a rule judges beyond its patterns
   * (entropy, checksums, comparisons) it reads through {@link judgedText}.
   */
  readonly decoded?: () => string;
  /**
   * `decoded().slice(start, end)` without decoding the rest of the text, when the scanner can
   * (it holds the file's bytes). {@link judgedText} prefers it.
   */
  readonly decodedSlice?: (start: number, end: number) => string;
  /**
   * Where the given keywords (some of the rule's own {@link Rule.keywords}) occur in the text,
   * case-blind, by start: the scanner's prefilter has found them all in its one pass, so a rule
   * may look only there instead of searching the text again. Absent when the prefilter could
   * not tell (then the rule searches itself).
   */
  readonly keywordMatches?: (keywords: readonly string[]) => readonly KeywordMatch[];
}

/**
 * The only characters of a one-byte text that may not be themselves: `oneByteText` writes every
 * character up to U+00FF as itself and each one above as U+00A0 (a space) or U+00B7 (anything
 * else). A slice without them is the decoded text already, and a file of megabytes is not
 * decoded whole for a value that merely holds an `é`.
 */
const STAND_INS = /[\u00a0\u00b7]/;

/**
 * `text.slice(start, end)` with the characters themselves where the text holds stand-ins (see
 * {@link RuleContext.decoded}): what a rule's judgement of a value must read.
 *
 * @example
 * ```ts
 * const value = judgedText(text, start, end, context);
 * if (shannonEntropy(value) >= 4) yield { start, end, confidence: 'high' };
 * ```
 */
export function judgedText(text: string, start: number, end: number, context?: RuleContext) {
  const slice = text.slice(start, end);
  if (context?.decoded === undefined || !STAND_INS.test(slice)) return slice;
  return decodedRange(context, start, end, context.decoded);
}

/**
 * `decoded().slice(start, end)` of a context that holds the decoded text, through
 * {@link RuleContext.decodedSlice} when it has one.
 *
 * @example
 * ```ts
 * if (context.decoded !== undefined) value = decodedRange(context, start, end, context.decoded);
 * ```
 */
export function decodedRange(
  context: RuleContext,
  start: number,
  end: number,
  decoded: () => string,
): string {
  return context.decodedSlice?.(start, end) ?? decoded().slice(start, end);
}

/** What {@link patternRule} needs. */
export interface PatternRuleSpec {
  readonly id: string;
  readonly description: string;
  readonly source: string;
  readonly keywords: readonly string[];
  readonly confidence: Confidence;
  /**
   * A global regular expression; the secret is the named group `secret` when present, else the
   * whole match.
   */
  readonly pattern: RegExp;
  /**
   * Decides on a match: the confidence to report, or `null` to drop it (a bad checksum, a
   * structure that does not parse). Without it every match gets the rule's confidence.
   */
  readonly validate?: (secret: string, match: RegExpExecArray) => Confidence | Verdict | null;
  readonly priority?: number;
  readonly variants?: readonly string[];
  /**
   * A match the validator rejects is vetoed (see {@link Candidate.veto}): for formats whose
   * checksum tells a real token from a look-alike.
   */
  readonly vetoRejected?: boolean;
}

/** A validator's decision when it also names the kind of secret (see {@link Candidate.ruleId}). */
export interface Verdict {
  readonly confidence: Confidence;
  readonly ruleId: string;
}

/** Priority of provider rules (generic assignment rules use a lower one). */
export const PROVIDER_PRIORITY = 10;

/**
 * Builds a {@link Rule} from a regular expression and an optional validator.
 *
 * @example
 * ```ts
 * const sendgrid = patternRule({ id: 'sendgrid-api-key', description: 'SendGrid API key',
 *   source: 'https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys',
 *   keywords: ['sg.'], confidence: 'high', pattern: /\bSG\.[\w-]{22}\.[\w-]{43}\b/g });
 * ```
 */
export function patternRule(spec: PatternRuleSpec): Rule {
  if (!spec.pattern.global) throw new TypeError(`rule ${spec.id}: the pattern must be global`);
  const pattern = spec.pattern.hasIndices
    ? spec.pattern
    : new RegExp(spec.pattern.source, `${spec.pattern.flags}d`);
  return {
    id: spec.id,
    description: spec.description,
    source: spec.source,
    keywords: spec.keywords,
    confidence: spec.confidence,
    priority: spec.priority ?? PROVIDER_PRIORITY,
    ...(spec.variants ? { variants: spec.variants } : {}),
    *find(text, context) {
      const regex = new RegExp(pattern);
      for (let found = regex.exec(text); found !== null; found = regex.exec(text)) {
        if (found[0].length === 0) {
          regex.lastIndex++;
          continue;
        }
        const match = spec.validate ? decodedMatch(pattern, found, context) : found;
        const span = match.indices?.groups?.secret ?? match.indices?.[0];
        if (span === undefined) continue;
        const secret = match.input.slice(span[0], span[1]);
        const verdict = spec.validate ? spec.validate(secret, match) : spec.confidence;
        if (verdict === null) {
          if (spec.vetoRejected)
            yield { start: span[0], end: span[1], confidence: 'low', veto: true };
          continue;
        }
        yield typeof verdict === 'string'
          ? { start: span[0], end: span[1], confidence: verdict }
          : { start: span[0], end: span[1], ...verdict };
      }
    },
  };
}

/**
 * The same match in the decoded text when `found` spans stand-ins (see
 * {@link RuleContext.decoded}), so a validator sees the characters themselves; else `found`.
 */
function decodedMatch(
  pattern: RegExp,
  found: RegExpExecArray,
  context: RuleContext | undefined,
): RegExpExecArray {
  if (context?.decoded === undefined || !STAND_INS.test(found[0])) return found;
  const again = new RegExp(pattern);
  again.lastIndex = found.index;
  const match = again.exec(context.decoded());
  return match?.index === found.index ? match : found;
}

/** One level weaker (`low` stays `low`). */
export function weaker(confidence: Confidence): Confidence {
  return confidence === 'high' ? 'medium' : 'low';
}

/** Whether `confidence` is at least `minimum`. */
export function atLeast(confidence: Confidence, minimum: Confidence): boolean {
  return CONFIDENCE_LEVELS.indexOf(confidence) <= CONFIDENCE_LEVELS.indexOf(minimum);
}

import type { Rule } from '../rules/rule.js';
import { createKeywordSearch, type KeywordMatch } from './keyword-search.js';

/** What the prefilter chose for one text. */
export interface Selection {
  /** The rules to run: those without keywords, and those whose keywords occur. */
  readonly rules: Rule[];
  /**
   * Every occurrence of any of `keywords` (some of the rules' own, lowercase), by start; see
   * `RuleContext.keywordMatches`. Absent when the keywords were sought by a regular expression.
   */
  readonly keywordMatches?: (keywords: readonly string[]) => KeywordMatch[];
}

/** Chooses, in one pass over the text, the rules whose keywords occur in it. */
export interface Prefilter {
  /** The rules to run on `text`. */
  activeRules(text: string): Rule[];
  /** The rules to run on `text`, and where their keywords are. */
  select(text: string): Selection;
  /**
   * {@link select} for the whole of `text` and for each stretch `[from, to)` of it, as if each
   * were a text of its own (keyword offsets from its `from`), from one pass over the whole text
   * where it can.
   */
  selectEach(
    text: string,
    stretches: readonly Stretch[],
  ): { readonly whole: Selection; readonly parts: Selection[] };
}

/** A part of a text, `[from, to)`. */
export interface Stretch {
  readonly from: number;
  readonly to: number;
}

function escapeForRegex(keyword: string): string {
  return keyword.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const lowercase = (keyword: string) => keyword.toLowerCase();

const cache = new WeakMap<readonly Rule[], Prefilter>();

/**
 * The keywords of `keywords` that occur in `text`, case-blind (`/i`), by one regular expression
 * of them all, longest first; each occurrence counts for every keyword `/i` finds in it (`sk_live_`
 * holds `sk_`), and keywords overlapping it are still found. Only for keywords an automaton cannot
 * take (see `createKeywordSearch`).
 */
function regexSearch(keywords: readonly string[]): (text: string) => Set<string> {
  const sorted = [...keywords].sort((a, b) => b.length - a.length);
  // Each keyword alone, to tell which an occurrence holds. Lowercasing the occurrence cannot:
  // `/µ/i` finds the micro sign in a Greek `μ`, which no case mapping turns into `µ`.
  const alone = sorted.map((keyword) => ({
    keyword,
    regex: new RegExp(escapeForRegex(keyword), 'i'),
  }));
  const combined = new RegExp(sorted.map(escapeForRegex).join('|'), 'gi');
  return (text) => {
    const found = new Set<string>();
    const seen = new Set<string>();
    const search = new RegExp(combined);
    for (let match = search.exec(text); match !== null; match = search.exec(text)) {
      const occurrence = match[0];
      if (!seen.has(occurrence)) {
        seen.add(occurrence);
        for (const { keyword, regex } of alone) if (regex.test(occurrence)) found.add(keyword);
        if (found.size === sorted.length) break;
      }
      // On from the next character: another keyword may start inside this one.
      search.lastIndex = match.index + 1;
    }
    return found;
  };
}

/**
 * The prefilter of a rule set (built once per set): one pass over the text finds every keyword
 * of every rule, case-blind, with an Aho–Corasick automaton (`createKeywordSearch`; a regular
 * expression of them all when a keyword is not ASCII). The text is never lowercased whole: most
 * files hold a non-Latin-1 character somewhere, and lowercasing such a string cost more than
 * every rule together. Where each keyword occurs is kept for rules that search only there.
 *
 * @example
 * ```ts
 * const { rules, keywordMatches } = prefilterFor(defaultRules).select(text);
 * ```
 */
export function prefilterFor(rules: readonly Rule[]): Prefilter {
  const cached = cache.get(rules);
  if (cached) return cached;
  const keywords = [...new Set(rules.flatMap((rule) => rule.keywords.map(lowercase)))];
  const automaton = keywords.length > 0 ? createKeywordSearch(keywords) : null;
  const regex = keywords.length > 0 && automaton === null ? regexSearch(keywords) : null;
  const active = (found: ReadonlySet<string>) =>
    rules.filter(
      (rule) =>
        rule.keywords.length === 0 ||
        rule.keywords.some((keyword) => found.has(lowercase(keyword))),
    );
  const prefilter: Prefilter = {
    select(text) {
      if (automaton !== null) {
        const hits = automaton.search(text);
        return { rules: active(hits.found), keywordMatches: (wanted) => hits.matches(wanted) };
      }
      return { rules: active(regex === null ? new Set() : regex(text)) };
    },
    selectEach(text, stretches) {
      if (automaton === null) {
        return {
          whole: prefilter.select(text),
          parts: stretches.map(({ from, to }) => prefilter.select(text.slice(from, to))),
        };
      }
      const hits = automaton.search(text);
      return {
        whole: { rules: active(hits.found), keywordMatches: (wanted) => hits.matches(wanted) },
        parts: stretches.map(({ from, to }) => {
          const part = hits.within(from, to);
          return { rules: active(part.found), keywordMatches: (wanted) => part.matches(wanted) };
        }),
      };
    },
    activeRules(text) {
      return prefilter.select(text).rules;
    },
  };
  cache.set(rules, prefilter);
  return prefilter;
}

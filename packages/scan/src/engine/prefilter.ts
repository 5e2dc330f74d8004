import type { Rule } from '../rules/rule.js';

/** Chooses, in one pass over the text, the rules whose keywords occur in it. */
export interface Prefilter {
  /** The rules to run on `text`. */
  activeRules(text: string): Rule[];
}

function escapeForRegex(keyword: string): string {
  return keyword.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const lowercase = (keyword: string) => keyword.toLowerCase();

const cache = new WeakMap<readonly Rule[], Prefilter>();

/**
 * The prefilter of a rule set (built once per set): one case-blind regular expression of every
 * keyword, longest keywords first; a keyword found also counts for the keywords it contains
 * (`sk_live_` holds `sk_`), and keywords overlapping it are still found. The text is never lowercased whole: most files
 * hold a non-Latin-1 character somewhere, and lowercasing such a string cost more than every
 * rule together.
 *
 * @example
 * ```ts
 * const rules = prefilterFor(defaultRules).activeRules(text);
 * ```
 */
export function prefilterFor(rules: readonly Rule[]): Prefilter {
  const cached = cache.get(rules);
  if (cached) return cached;
  const keywords = [...new Set(rules.flatMap((rule) => rule.keywords.map(lowercase)))].sort(
    (a, b) => b.length - a.length,
  );
  const contained = new Map(
    keywords.map((keyword) => [keyword, keywords.filter((other) => keyword.includes(other))]),
  );
  const combined =
    keywords.length > 0 ? new RegExp(keywords.map(escapeForRegex).join('|'), 'gi') : null;
  const prefilter: Prefilter = {
    activeRules(text) {
      const found = new Set<string>();
      if (combined !== null) {
        const search = new RegExp(combined);
        for (let match = search.exec(text); match !== null; match = search.exec(text)) {
          const keyword = match[0].toLowerCase();
          if (!found.has(keyword)) {
            for (const held of contained.get(keyword) ?? []) found.add(held);
            if (found.size === keywords.length) break;
          }
          // On from the next character: another keyword may start inside this one.
          search.lastIndex = match.index + 1;
        }
      }
      return rules.filter(
        (rule) =>
          rule.keywords.length === 0 ||
          rule.keywords.some((keyword) => found.has(lowercase(keyword))),
      );
    },
  };
  cache.set(rules, prefilter);
  return prefilter;
}

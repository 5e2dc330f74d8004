import type { Rule } from '../rules/rule.js';

/** Chooses, in one pass over the text, the rules whose keywords occur in it. */
export interface Prefilter {
  /** The rules to run on `text`; `lower` is `text.toLowerCase()` when the caller has it. */
  activeRules(text: string, lower?: string): Rule[];
}

function escapeForRegex(keyword: string): string {
  return keyword.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const cache = new WeakMap<readonly Rule[], Prefilter>();

/**
 * The prefilter of a rule set (built once per set): one regular expression of every keyword,
 * run over the lowercased text, longest keywords first; a keyword found also counts for the
 * keywords it contains (`sk_live_` holds `sk_`).
 *
 * @example
 * ```ts
 * const rules = prefilterFor(defaultRules).activeRules(text);
 * ```
 */
export function prefilterFor(rules: readonly Rule[]): Prefilter {
  const cached = cache.get(rules);
  if (cached) return cached;
  const keywords = [...new Set(rules.flatMap((rule) => rule.keywords))].sort(
    (a, b) => b.length - a.length,
  );
  const contained = new Map(
    keywords.map((keyword) => [keyword, keywords.filter((other) => keyword.includes(other))]),
  );
  const always = rules.filter((rule) => rule.keywords.length === 0);
  const combined =
    keywords.length > 0 ? new RegExp(keywords.map(escapeForRegex).join('|'), 'g') : null;
  const prefilter: Prefilter = {
    activeRules(text, lowered) {
      if (combined === null) return [...always];
      const lower = lowered ?? text.toLowerCase();
      const found = new Set<string>();
      const regex = new RegExp(combined);
      for (let match = regex.exec(lower); match !== null; match = regex.exec(lower)) {
        if (found.has(match[0])) continue;
        for (const keyword of contained.get(match[0]) ?? []) found.add(keyword);
        if (found.size === keywords.length) break;
      }
      return rules.filter(
        (rule) => rule.keywords.length === 0 || rule.keywords.some((keyword) => found.has(keyword)),
      );
    },
  };
  cache.set(rules, prefilter);
  return prefilter;
}

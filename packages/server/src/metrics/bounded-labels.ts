/** The label value every name beyond the bound is folded into. */
export const OTHER_LABEL = 'other';

/**
 * A label whose values are names callers choose (transit key names): the first `max` distinct
 * names keep their own value, every later one is counted as {@link OTHER_LABEL}, so a caller
 * cannot grow the metrics without bound.
 *
 * @example
 * ```ts
 * const keys = boundedLabel(2);
 * keys('a'); // 'a'
 * keys('b'); // 'b'
 * keys('c'); // 'other'
 * ```
 */
export function boundedLabel(max: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= max) return OTHER_LABEL;
    seen.add(value);
    return value;
  };
}

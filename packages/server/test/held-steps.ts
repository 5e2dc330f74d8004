/**
 * Rotator steps that hold: the first call per key waits until its step's signal fires, then
 * fails as a step stopped at its next safe point would; later calls for the key return at once.
 * Tests wait for a step to be entered with `enteredOf(key)`.
 */
export function heldSteps() {
  const entered = new Map<string, () => void>();
  const entries = new Map<string, Promise<void>>();
  const used = new Set<string>();
  const enteredOf = (key: string): Promise<void> => {
    let found = entries.get(key);
    if (found === undefined) {
      found = new Promise<void>((resolve) => entered.set(key, resolve));
      entries.set(key, found);
    }
    return found;
  };
  /** Holds the first call for `key` until `signal` fires (`onAbort` runs then); later ones pass. */
  const holdFirst = async (key: string, signal: AbortSignal, onAbort: () => void) => {
    if (used.has(key)) return;
    used.add(key);
    void enteredOf(key);
    entered.get(key)?.();
    await new Promise<void>((_, reject) => {
      signal.addEventListener('abort', () => {
        onAbort();
        reject(new Error('stopped at the safe point'));
      });
    });
  };
  return { enteredOf, holdFirst };
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { textWindows, WINDOW_LENGTH, WINDOW_MARGIN } from './windows.js';

describe('textWindows', () => {
  it('covers a text end to end with own stretches that never overlap, each read with its margins', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 * WINDOW_LENGTH }), (length) => {
        const windows = textWindows(length);
        let next = 0;
        for (const window of windows) {
          expect(window.ownFrom).toBe(next);
          expect(window.from).toBe(Math.max(0, window.ownFrom - WINDOW_MARGIN));
          expect(window.to).toBe(Math.min(length, window.ownTo + WINDOW_MARGIN));
          next = window.ownTo;
        }
        expect(next).toBe(length);
        // Every stretch but the last is one window long; the last takes the rest, never a sliver.
        for (const window of windows.slice(0, -1)) {
          expect(window.ownTo - window.ownFrom).toBe(WINDOW_LENGTH);
        }
        const last = windows.at(-1);
        const lastLength = (last?.ownTo ?? 0) - (last?.ownFrom ?? 0);
        expect(lastLength).toBeLessThan(2 * WINDOW_LENGTH);
        if (windows.length > 1) expect(lastLength).toBeGreaterThanOrEqual(WINDOW_LENGTH);
      }),
    );
  });

  it('gives a text of up to two windows one window, the whole of it', () => {
    expect(textWindows(2 * WINDOW_LENGTH - 1)).toEqual([
      { from: 0, to: 2 * WINDOW_LENGTH - 1, ownFrom: 0, ownTo: 2 * WINDOW_LENGTH - 1 },
    ]);
    expect(textWindows(2 * WINDOW_LENGTH)).toEqual([
      { from: 0, to: WINDOW_LENGTH + WINDOW_MARGIN, ownFrom: 0, ownTo: WINDOW_LENGTH },
      {
        from: WINDOW_LENGTH - WINDOW_MARGIN,
        to: 2 * WINDOW_LENGTH,
        ownFrom: WINDOW_LENGTH,
        ownTo: 2 * WINDOW_LENGTH,
      },
    ]);
  });

  it('has no window for an empty text', () => {
    expect(textWindows(0)).toEqual([]);
  });
});

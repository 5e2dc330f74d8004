/**
 * Texts longer than twice this many characters are scanned window by window: each window runs
 * only the rules whose keywords occur in it, so a large file costs what as many small files
 * would instead of running every rule over all of it (in a file of megabytes nearly every
 * rule's keyword occurs somewhere).
 */
export const WINDOW_LENGTH = 64 * 1024;

/**
 * What each window also reads before and after its own stretch. A rule that may match, or read
 * around a match, more than this sets `Rule.wholeText` and runs over the whole text instead.
 */
export const WINDOW_MARGIN = 4 * 1024;

/** One window of a long text: the candidates it reports are those that start in its own stretch. */
export interface TextWindow {
  /** Where the window's text starts: its own stretch less the margin. */
  readonly from: number;
  /** Where the window's text ends: its own stretch and the margin. */
  readonly to: number;
  readonly ownFrom: number;
  readonly ownTo: number;
}

/**
 * The windows of a text of `length` characters: own stretches of {@link WINDOW_LENGTH} that
 * cover it end to end without overlapping (the last one takes the rest), each read with
 * {@link WINDOW_MARGIN} around it. A match of at most the margin's length that starts in a
 * stretch is read whole by its window, with all the context the rule would have seen in the
 * whole text; one starting in a margin belongs to the neighbouring window.
 *
 * @example
 * ```ts
 * for (const window of textWindows(text.length)) scan(text.slice(window.from, window.to));
 * ```
 */
export function textWindows(length: number): TextWindow[] {
  const windows: TextWindow[] = [];
  for (let ownFrom = 0; ownFrom < length; ownFrom += WINDOW_LENGTH) {
    // The last stretch takes the rest rather than leave a short one behind.
    const ownTo = length - ownFrom < 2 * WINDOW_LENGTH ? length : ownFrom + WINDOW_LENGTH;
    windows.push({
      from: Math.max(0, ownFrom - WINDOW_MARGIN),
      to: Math.min(length, ownTo + WINDOW_MARGIN),
      ownFrom,
      ownTo,
    });
    if (ownTo === length) break;
  }
  return windows;
}

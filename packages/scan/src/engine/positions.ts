/** Turns offsets in a text into 1-based lines and columns (built lazily, once per text). */
export class LineIndex {
  /**
   * Where each line starts, in `#starts[0..#lines)`: a typed array, about four times faster to
   * fill than an array of numbers in a file of megabytes.
   */
  #starts: Int32Array | null = null;
  #lines = 0;

  constructor(private readonly text: string) {}

  #lineStarts(): Int32Array {
    if (this.#starts === null) {
      let starts = new Int32Array(256);
      let lines = 1;
      for (let i = this.text.indexOf('\n'); i >= 0; i = this.text.indexOf('\n', i + 1)) {
        if (lines === starts.length) {
          const grown = new Int32Array(lines * 2);
          grown.set(starts);
          starts = grown;
        }
        starts[lines++] = i + 1;
      }
      this.#starts = starts;
      this.#lines = lines;
    }
    return this.#starts;
  }

  /** The 1-based line and column of `offset`. */
  position(offset: number): { line: number; column: number } {
    const starts = this.#lineStarts();
    let low = 0;
    let high = this.#lines - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((starts[mid] as number) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - (starts[low] as number) + 1 };
  }

  /** The text of 1-based line `line`, without its line break. */
  lineText(line: number): string {
    const starts = this.#lineStarts();
    if (line < 1 || line > this.#lines) return '';
    const start = starts[line - 1] as number;
    const next = line < this.#lines ? (starts[line] as number) : undefined;
    return this.text.slice(start, next === undefined ? this.text.length : next - 1);
  }
}

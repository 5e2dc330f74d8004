/** One candidate in a side-by-side comparison. */
export interface Candidate {
  readonly name: string;
  /** One operation. Its return value is kept so the engine cannot drop the work. */
  readonly run: () => unknown;
}

/** Median operations per second of each candidate, measured in interleaved rounds. */
export interface Measurement {
  readonly name: string;
  readonly opsPerSecond: number;
  /** Spread of the rounds: (max - min) / median. */
  readonly spread: number;
  /** Ops/s of each round, in order: rows measured in the same rounds are compared pairwise. */
  readonly rounds?: readonly number[];
  /** Extra figures shown as extra columns (latency percentiles, memory…). */
  readonly details?: Readonly<Record<string, string>>;
  /** Figures that goals can compare (`Goal.figure`), e.g. `{ peakMemoryMiB: 61.2 }`. */
  readonly figures?: Readonly<Record<string, number>>;
}

/** Where results go so the engine cannot drop the measured work. */
export let sink: unknown;

function timeSlice(run: () => unknown, sliceMs: number): number {
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(sliceMs * 1e6);
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 64; i++) sink = run();
    ops += 64;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

/**
 * Runs every candidate in turn, round after round (A B C A B C …), so that a noisy neighbour or
 * a frequency change hits all of them alike, and reports each one's median. Times are never
 * asserted: only the ratios between candidates of the same run mean anything.
 */
export function compare(
  candidates: readonly Candidate[],
  { rounds = 9, sliceMs = 120, warmupMs = 200 } = {},
): Measurement[] {
  for (const c of candidates) timeSlice(c.run, warmupMs);
  const samples = candidates.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of candidates.entries()) samples[i]?.push(timeSlice(c.run, sliceMs));
  }
  return candidates.map((c, i) => summarise(c.name, samples[i] as number[]));
}

/** A candidate's measurement from its per-round ops/s (kept in round order). */
export function summarise(name: string, rounds: readonly number[]): Measurement {
  const sorted = [...rounds].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  return {
    name,
    opsPerSecond: median,
    spread: ((sorted.at(-1) as number) - (sorted[0] as number)) / median,
    rounds,
  };
}

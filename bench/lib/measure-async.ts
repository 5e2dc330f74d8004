import { type Measurement, summarise } from './measure.js';

/** One candidate whose operation returns a promise (awaited one at a time). */
export interface AsyncCandidate {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

/** Where results go so the engine cannot drop the measured work. */
export let asyncSink: unknown;

async function timeSlice(run: () => Promise<unknown>, sliceMs: number): Promise<number> {
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(sliceMs * 1e6);
  let now = start;
  while (now < deadline) {
    asyncSink = await run();
    ops++;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

/**
 * `compare` for asynchronous operations: candidates run in turn, round after round, each
 * operation awaited before the next (so ops/s is the latency of one caller), and each
 * candidate's median is reported. Only the ratios within one run mean anything.
 */
export async function compareAsync(
  candidates: readonly AsyncCandidate[],
  { rounds = 7, sliceMs = 150, warmupMs = 200 } = {},
): Promise<Measurement[]> {
  for (const c of candidates) await timeSlice(c.run, warmupMs);
  const samples = candidates.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of candidates.entries()) samples[i]?.push(await timeSlice(c.run, sliceMs));
  }
  return candidates.map((c, i) => summarise(c.name, samples[i] as number[]));
}

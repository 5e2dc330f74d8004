/**
 * Test support: a sink's log written to real files by the chain writer and a rotating file
 * sink, on a clock the test moves (to rotate by age, and to make files old for retention).
 */
import { ChainedSink } from '../src/audit/audit-chain.js';
import { createFileSink, type FileSinkOptions } from '../src/audit/sinks.js';
import { signer } from './audit.js';

/** A clock the test moves; every entry takes one second of it. */
export interface TestClock {
  ms: number;
}

/**
 * A chain over a rotating file sink at `path`, on `clock`. `write(n)` appends `n` entries (one
 * second apart); `close()` ends it with a close entry and its checkpoint.
 */
export async function rotatingLog(
  path: string,
  clock: TestClock,
  options: Omit<FileSinkOptions, 'now'>,
) {
  const key = signer();
  const errors: Error[] = [];
  const now = () => new Date(clock.ms);
  const chain = new ChainedSink(createFileSink('file', path, { ...options, now }), {
    signer: key,
    checkpointEvery: 5,
    now,
    onError: (error) => errors.push(error),
  });
  await chain.open();
  let n = 0;
  return {
    chain,
    key,
    errors,
    async write(count: number) {
      for (let i = 0; i < count; i++) {
        clock.ms += 1000;
        n += 1;
        await chain.append({ type: 'request', request: { id: `r${n}`, pad: 'x'.repeat(200) } });
      }
    },
    close: () => chain.close(),
  };
}

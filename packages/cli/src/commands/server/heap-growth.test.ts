import { beforeEach, describe, expect, it, vi } from 'vitest';

const flags = vi.hoisted(() => [] as string[]);
vi.mock('node:v8', async (original) => ({
  ...(await original<typeof import('node:v8')>()),
  setFlagsFromString: (flag: string) => flags.push(flag),
}));
const { limitHeapGrowth, SERVER_HEAP_GROWING_PERCENT } = await import('./heap-growth.js');

describe('limitHeapGrowth', () => {
  beforeEach(() => {
    flags.length = 0;
  });

  it('sets the server’s heap growing factor when the process was given none', () => {
    expect(limitHeapGrowth([], '')).toBe(true);
    expect(limitHeapGrowth(['--max-semi-space-size=4'], '--enable-source-maps')).toBe(true);
    expect(flags).toEqual([
      `--heap-growing-percent=${SERVER_HEAP_GROWING_PERCENT}`,
      `--heap-growing-percent=${SERVER_HEAP_GROWING_PERCENT}`,
    ]);
  });

  it('keeps a factor given on the command line or in NODE_OPTIONS, in every spelling', () => {
    for (const [execArgv, nodeOptions] of [
      [['--heap-growing-percent=20'], ''],
      [['--heap-growing-percent', '20'], ''],
      [['--heap_growing_percent=20'], ''],
      [[], '--heap-growing-percent=300'],
      [[], '--max-old-space-size=512  --heap-growing-percent=10'],
    ] as const) {
      expect(limitHeapGrowth(execArgv, nodeOptions), `${execArgv} ${nodeOptions}`).toBe(false);
    }
    expect(flags).toEqual([]);
  });

  it('does not take a longer flag for it', () => {
    expect(limitHeapGrowth(['--heap-growing-percentage=5'], '')).toBe(true);
  });
});

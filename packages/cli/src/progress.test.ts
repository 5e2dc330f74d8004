import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';

function capture(isTTY: boolean) {
  const stream = new PassThrough() as PassThrough & Partial<NodeJS.WriteStream>;
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  Object.assign(stream, {
    isTTY,
    columns: 120,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

describe('createProgress', () => {
  it('prints a plain line at the start, then at most every few seconds when not on a terminal, and at the end', () => {
    const out = capture(false);
    let now = 0;
    const progress = createProgress('reencrypt patients', {
      stream: out.stream,
      now: () => now,
      lineIntervalSeconds: 5,
    });
    progress.update(0, 10_000);
    expect(out.text()).toBe('reencrypt patients: 0/10,000 rows (0%), 0 rows/s\n');
    now = 1000;
    progress.update(1000, 10_000);
    now = 4999;
    progress.update(4999, 10_000);
    now = 5000;
    progress.update(5000, 10_000);
    now = 8000;
    progress.update(8000, 10_000);
    progress.stop();
    progress.stop();
    const lines = out.text().trim().split('\n');
    expect(lines).toEqual([
      'reencrypt patients: 0/10,000 rows (0%), 0 rows/s',
      'reencrypt patients: 5,000/10,000 rows (50%), 1,000 rows/s, ETA 5s',
      'reencrypt patients: 8,000/10,000 rows (80%), 1,000 rows/s, ETA 2s',
    ]);
  });

  it('draws a bar with rate and ETA on a terminal', () => {
    const out = capture(true);
    let now = 0;
    const progress = createProgress('verify patients', { stream: out.stream, now: () => now });
    progress.update(0, 100);
    now = 2000;
    progress.update(50, 100);
    progress.stop();
    expect(out.text()).toMatch(/verify patients \|.*\| 50% \| 50\/100 rows \| 25 rows\/s \| ETA/);
  });
});

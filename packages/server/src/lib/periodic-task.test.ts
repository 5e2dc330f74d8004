import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPeriodicTask } from './periodic-task.js';

describe('createPeriodicTask', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs while started, never two runs at once, and reports failures', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const errors: unknown[] = [];
    const task = createPeriodicTask(
      () => {
        runs++;
        if (runs === 2) return Promise.reject(new Error('boom'));
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      100,
      (err) => errors.push(err),
    );
    await vi.advanceTimersByTimeAsync(500);
    expect(runs).toBe(0); // not started
    task.start();
    task.start(); // a second start does not add a second timer
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(500); // the first run is still going
    expect(runs).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(2);
    expect(errors).toMatchObject([{ message: 'boom' }]);
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(3);
    release();
    task.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(3);
  });
});

import { describe, expect, it } from 'vitest';
import { formatDuration, parseDurationSeconds } from './duration.js';

describe('durations', () => {
  it.each([
    [3600, 3600],
    ['90', 90],
    ['90s', 90],
    ['15m', 900],
    ['1h30m', 5400],
    ['768h', 2_764_800],
    ['1d', 86_400],
    ['1.5h', 5400],
    ['1500ms', 1],
  ])('%s is %i seconds', (input, seconds) => {
    expect(parseDurationSeconds(input, 'ttl')).toBe(seconds);
  });

  it.each([['soon'], ['-5'], [-5], [1.5], ['1h-'], [null], [{}]])(
    'refuses %j, naming the field',
    (input) => {
      expect(() => parseDurationSeconds(input, 'token_ttl')).toThrow(/token_ttl must be/);
    },
  );

  it('formats as Vault prints durations', () => {
    expect([0, 59, 90, 5400, 2_764_800].map(formatDuration)).toEqual([
      '0s',
      '59s',
      '1m30s',
      '1h30m0s',
      '768h0m0s',
    ]);
  });
});

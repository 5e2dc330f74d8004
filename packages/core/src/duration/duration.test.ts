import { describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.js';
import { parseDurationSeconds as fromTokens } from '../tokens/index.js';
import { formatDuration, parseDurationSeconds } from './index.js';

describe('the one duration grammar', () => {
  it.each([
    [0, 0],
    [3600, 3600],
    ['90', 90],
    [' 90 ', 90],
    ['90s', 90],
    ['15m', 900],
    ['1h30m', 5400],
    ['30m1h', 5400],
    ['768h', 2_764_800],
    ['48h', 172_800],
    ['1d', 86_400],
    ['7d', 604_800],
    ['1d12h', 129_600],
    ['2w', 1_209_600],
    ['1w2d3h4m5s', 788_645],
    ['1.5h', 5400],
    // Decimal parts are summed exactly: 4.35 × 3600 is 15659.999… in floating point.
    ['4.35h', 15_660],
    ['0.1s', 0],
    ['1500ms', 1],
    ['1m500ms', 60],
  ])('%j is %i seconds', (input, seconds) => {
    expect(parseDurationSeconds(input, 'ttl')).toBe(seconds);
  });

  it.each([
    [''],
    ['  '],
    ['soon'],
    ['two days'],
    ['-5'],
    ['+5s'],
    [-5],
    [1.5],
    [Number.NaN],
    ['1.5'],
    ['h'],
    ['1h-'],
    ['48 h'],
    ['1h 30m'],
    ['1y'],
    ['5S'],
    ['0x10'],
    ['1e3'],
    ['99999999999999999999'],
    ['9999999999999w'],
    [null],
    [undefined],
    [{}],
    [['1h']],
  ])('refuses %j, naming the field and suggesting the form', (input) => {
    let error: unknown;
    try {
      parseDurationSeconds(input, 'token_ttl');
    } catch (err) {
      error = err;
    }
    expect(isCustosError(error, 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toBe(
      'token_ttl must be a whole number of seconds or a duration such as 90s, 15m, 1h30m, 48h, 7d or 2w',
    );
  });

  it('throws the code the caller names (a server parameter is an invalid request)', () => {
    expect(() => parseDurationSeconds('soon', 'ttl', { errorCode: 'ERR_INVALID_REQUEST' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_REQUEST' }),
    );
  });

  it('is the same function the tokens module exports (the CLI --grace flag)', () => {
    expect(fromTokens).toBe(parseDurationSeconds);
    expect(fromTokens('1h30m', '--grace')).toBe(5400);
  });

  it('formats as Vault prints durations, and the text parses back', () => {
    const seconds = [0, 59, 90, 5400, 2_764_800];
    const texts = seconds.map(formatDuration);
    expect(texts).toEqual(['0s', '59s', '1m30s', '1h30m0s', '768h0m0s']);
    expect(texts.map((t) => parseDurationSeconds(t))).toEqual(seconds);
  });
});

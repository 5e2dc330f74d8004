import { describe, expect, it } from 'vitest';
import { shareWithOtherIndex } from './seal.js';

describe('shareWithOtherIndex', () => {
  // Shares as hex, their last byte the index: of another key set, one may share a given index.
  const foreign = ['aa01', 'bb02', 'cc03'];

  it('skips a share whose index is that of a share already given', () => {
    expect(shareWithOtherIndex(foreign, ['dd01'])).toBe('bb02');
    expect(shareWithOtherIndex(foreign, ['dd02'])).toBe('aa01');
    expect(shareWithOtherIndex(foreign, ['dd01', 'ee02'])).toBe('cc03');
  });

  it('refuses when every share has a given index', () => {
    expect(() => shareWithOtherIndex(foreign, ['0001', '0002', '0003'])).toThrow(
      'every share has the index of one given',
    );
  });
});

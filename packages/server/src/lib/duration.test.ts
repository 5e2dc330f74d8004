import { describe, expect, it } from 'vitest';
import { parseDurationSeconds } from './duration.js';

// The grammar itself is tested in @custos/core (src/duration/duration.test.ts).
describe('duration request parameters', () => {
  it("read the library's grammar, days and weeks included", () => {
    expect(parseDurationSeconds('2w', 'ttl')).toBe(1_209_600);
    expect(parseDurationSeconds('1d12h', 'ttl')).toBe(129_600);
    expect(parseDurationSeconds(3600, 'ttl')).toBe(3600);
  });

  it('refuse anything else as an invalid request naming the field', () => {
    expect(() => parseDurationSeconds('soon', 'token_ttl')).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_REQUEST',
        message: expect.stringMatching(/^token_ttl must be /),
      }),
    );
  });
});

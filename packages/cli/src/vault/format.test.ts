import { describe, expect, it } from 'vitest';
import { formatValue, outputFormat, table } from './format.js';
import { humanDuration } from './response.js';

describe('Vault output formatting', () => {
  it("prints values as Vault's table does (Go's %v)", () => {
    expect(formatValue('x')).toBe('x');
    expect(formatValue(['a', 'b'])).toBe('[a b]');
    expect(formatValue({ b: 1, a: { c: null } })).toBe('map[a:map[c:<nil>] b:1]');
    expect(formatValue(true)).toBe('true');
  });

  it('pads every column but the last to its widest cell plus four spaces', () => {
    expect(table(['Key', 'Value'], [['token_policies', '[a]']])).toEqual([
      'Key               Value',
      '---               -----',
      'token_policies    [a]',
    ]);
  });

  it('prints durations as Vault does', () => {
    expect(humanDuration(3600)).toBe('1h');
    expect(humanDuration(5405)).toBe('1h30m5s');
    expect(humanDuration(0)).toBe('∞');
  });

  it('accepts table and json only', () => {
    expect(outputFormat({ format: 'json' })).toBe('json');
    expect(outputFormat({})).toBe('table');
    expect(() => outputFormat({ format: 'yaml' })).toThrow(/use table or json/);
  });
});

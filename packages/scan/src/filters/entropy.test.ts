import { describe, expect, it } from 'vitest';
import { characterClasses, shannonEntropy } from './entropy.js';

describe('shannonEntropy', () => {
  it('is the bits per character of the value', () => {
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('ab')).toBe(1);
    expect(shannonEntropy('abab')).toBe(1);
    expect(shannonEntropy('abcd')).toBe(2);
    expect(shannonEntropy('0123456789abcdef')).toBe(4);
    // p = 3/4 and 1/4: -(0.75 log2 0.75 + 0.25 log2 0.25)
    expect(shannonEntropy('aaab')).toBeCloseTo(0.811278124459, 10);
  });
});

describe('characterClasses', () => {
  it('counts lowercase, uppercase, digits and other characters', () => {
    expect(characterClasses('')).toBe(0);
    expect(characterClasses('abc')).toBe(1);
    expect(characterClasses('ABC')).toBe(1);
    expect(characterClasses('123')).toBe(1);
    expect(characterClasses('-_!')).toBe(1);
    expect(characterClasses('aB')).toBe(2);
    expect(characterClasses('a1')).toBe(2);
    expect(characterClasses('A-')).toBe(2);
    expect(characterClasses('Abc-123')).toBe(4);
    expect(characterClasses('zZ9é')).toBe(4);
  });
});

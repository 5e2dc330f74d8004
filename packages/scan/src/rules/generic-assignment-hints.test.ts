import { describe, expect, it } from 'vitest';
import { randomString } from '../../test/generate.js';
import type { KeywordMatch } from '../engine/keyword-search.js';
import { genericAssignment } from './generic-assignment.js';

const value = () => `${randomString(20)}-${randomString(6)}`;

describe('where the rule looks for names', () => {
  it('only at the hints the prefilter found, when it tells where they are', () => {
    const [first, second] = [value(), value()];
    const text = `DB_PASSWORD=${first}\nAPI_TOKEN=${second}\n`;
    const asked: string[][] = [];
    // The prefilter's matches name only the second line's hint, `TOKEN`.
    const tokenAt = text.indexOf('TOKEN');
    const keywordMatches = (keywords: readonly string[]): KeywordMatch[] => {
      asked.push([...keywords]);
      return [{ start: tokenAt, end: tokenAt + 'token'.length }];
    };
    const spans = [...genericAssignment.find(text, { name: '.env', keywordMatches })].map((c) =>
      text.slice(c.start, c.end),
    );
    expect(spans).toEqual([second]);
    expect(asked).toEqual([genericAssignment.keywords]);
    // Searching itself, it finds both.
    expect([...genericAssignment.find(text, { name: '.env' })].map((c) => c.ruleId)).toEqual([
      'password-assignment',
      'secret-assignment',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { isGitleaksIgnored, parseGitleaksIgnore } from './gitleaks-ignore.js';

describe('.gitleaksignore', () => {
  const commit = 'a'.repeat(40);
  const entries = parseGitleaksIgnore(
    `# accepted\n${commit}:config/app.env:generic-api-key:3\nsrc/a:b.ts:stripe-access-token:7\nnot an entry\n\n`,
  );

  it('reads history and directory fingerprints, file names with colons included', () => {
    expect(entries).toEqual([
      { commit, file: 'config/app.env', line: 3 },
      { file: 'src/a:b.ts', line: 7 },
    ]);
  });

  it('matches a finding by file and line, and by commit when the entry names one', () => {
    expect(isGitleaksIgnored(entries, { file: 'src/a:b.ts', line: 7 })).toBe(true);
    expect(isGitleaksIgnored(entries, { file: 'src/a:b.ts', line: 8 })).toBe(false);
    expect(isGitleaksIgnored(entries, { file: 'config/app.env', line: 3, commit })).toBe(true);
    expect(
      isGitleaksIgnored(entries, { file: 'config/app.env', line: 3, commit: 'b'.repeat(40) }),
    ).toBe(false);
    expect(isGitleaksIgnored(entries, { file: 'config/app.env', line: 3 })).toBe(false);
  });
});

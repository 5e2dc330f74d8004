import { describe, expect, it } from 'vitest';
import { Acl } from './acl.js';
import { parsePolicy, policyFromDocument } from './policy-parse.js';

const policy = (name: string, rules: Record<string, string[]>) =>
  policyFromDocument(
    name,
    { path: Object.fromEntries(Object.entries(rules).map(([p, c]) => [p, { capabilities: c }])) },
    '',
  );

describe('ACL evaluation (Vault semantics)', () => {
  it('matches exact paths, trailing globs and + segments', () => {
    const acl = new Acl([
      policy('p', {
        'secret/data/exact': ['read'],
        'secret/data/app/*': ['update'],
        'secret/data/+/config': ['list'],
        'secret/data/pre*': ['delete'],
      }),
    ]);
    expect(acl.allows('secret/data/exact', 'read')).toBe(true);
    expect(acl.allows('secret/data/exact/more', 'read')).toBe(false);
    expect(acl.allows('secret/data/app/a/b/c', 'update')).toBe(true);
    expect(acl.allows('secret/data/app', 'update')).toBe(false);
    expect(acl.allows('secret/data/team1/config', 'list')).toBe(true);
    expect(acl.allows('secret/data/team1/x/config', 'list')).toBe(false);
    expect(acl.allows('secret/data/prefix-anything', 'delete')).toBe(true);
  });

  it("the most specific path wins, by Vault's priority rules", () => {
    const acl = new Acl([
      policy('p', {
        'secret/*': ['read'],
        'secret/data/*': ['list'],
        'secret/data/team/+': ['update'],
        'secret/data/+/db': ['create'],
        'secret/data/team/db': ['patch'],
      }),
    ]);
    expect([...acl.capabilities('secret/other')]).toEqual(['read']);
    expect([...acl.capabilities('secret/data/x/y/z')]).toEqual(['list']); // longer glob beats shorter
    expect([...acl.capabilities('secret/data/team/db')]).toEqual(['patch']); // exact beats wildcards
    // Later first wildcard wins: team/+ (wildcard at the end) beats +/db.
    expect([...acl.capabilities('secret/data/team/cache')]).toEqual(['update']);
    expect([...acl.capabilities('secret/data/ops/db')]).toEqual(['create']);
  });

  /**
   * Vault's "most specific path wins" (vault/acl.go), one tie-break at a time, in its order:
   * position of the first `+` or `*`, no trailing `*`, fewer `+` segments, length, lexical
   * order. In each row both patterns match the path and tie on every earlier rule; for each rule
   * one row is built so that the later rules would pick the loser. So flipping or skipping any
   * comparison of the priority function changes a verdict below (checked by hand-mutating each).
   */
  const TIE_BREAKS: readonly (readonly [
    rule: string,
    path: string,
    winner: string,
    loser: string,
  ])[] = [
    [
      'later first wildcard beats earlier',
      'secret/data/team/db',
      'secret/data/team/+',
      'secret/data/+/db',
    ],
    [
      'later first wildcard: a glob after a literal beats an earlier +',
      'secret/abc/x',
      'secret/ab*',
      'secret/+/x',
    ],
    [
      'later first wildcard: an exact path beats a glob on its prefix',
      'secret/db',
      'secret/db',
      'secret/d*',
    ],
    ['no trailing * beats a trailing * (exact path)', 'secret/db', 'secret/db', 'secret/db*'],
    [
      'no trailing * beats a trailing * (after a +)',
      'secret/x/bar',
      'secret/+/bar',
      'secret/+/bar*',
    ],
    ['fewer + segments beat more', 'secret/x/prod/db', 'secret/+/prod/db', 'secret/+/prod/+'],
    [
      'fewer + segments beat more (a longer glob loses)',
      'secret/q/a/bcde',
      'secret/+/a/b*',
      'secret/+/+/bcd*',
    ],
    ['longer beats shorter (globs)', 'x/q/a/b/ccc', 'x/+/+/b/cc*', 'x/+/a/+/c*'],
    ['longer beats shorter (no globs)', 'x/q/aa/z', 'x/+/aa/+', 'x/+/+/z'],
    ['lexically larger beats smaller', 'secret/x/b/c', 'secret/+/b/+', 'secret/+/+/c'],
  ];

  describe.each(TIE_BREAKS)('tie-break: %s', (_rule, path, winner, loser) => {
    const grant = (pattern: string) => policy('grant', { [pattern]: ['read'] });
    const deny = (pattern: string) => policy('deny', { [pattern]: ['deny'] });

    it.each([
      ['declared first', true],
      ['declared second', false],
    ])(`a deny on ${winner} beats a grant on ${loser} (winner %s)`, (_order, winnerFirst) => {
      const rules = winnerFirst ? [deny(winner), grant(loser)] : [grant(loser), deny(winner)];
      expect(new Acl(rules).allows(path, 'read')).toBe(false);
    });

    it.each([
      ['declared first', true],
      ['declared second', false],
    ])(`a grant on ${winner} beats a deny on ${loser} (winner %s)`, (_order, winnerFirst) => {
      const rules = winnerFirst ? [grant(winner), deny(loser)] : [deny(loser), grant(winner)];
      expect(new Acl(rules).allows(path, 'read')).toBe(true);
    });

    it('both patterns match the path on their own (the row tests priority, not matching)', () => {
      expect(new Acl([grant(winner)]).allows(path, 'read')).toBe(true);
      expect(new Acl([grant(loser)]).allows(path, 'read')).toBe(true);
    });
  });

  it('merges rules for the same pattern across policies; deny always wins there', () => {
    const a = policy('a', { 'secret/data/*': ['read'] });
    const b = policy('b', { 'secret/data/*': ['update'] });
    const deny = policy('deny', { 'secret/data/*': ['deny'] });
    expect(new Acl([a, b]).allows('secret/data/x', 'update')).toBe(true);
    expect(new Acl([a, b]).allows('secret/data/x', 'read')).toBe(true);
    expect(new Acl([a, b, deny]).capabilities('secret/data/x').size).toBe(0);
    // A more specific grant still beats a less specific deny, as in Vault.
    expect(
      new Acl([deny, policy('c', { 'secret/data/open': ['read'] })]).allows(
        'secret/data/open',
        'read',
      ),
    ).toBe(true);
  });

  it('requires sudo where asked, and root allows everything', () => {
    const acl = new Acl([
      policy('p', { 'sys/seal': ['update'], 'sys/rotate': ['update', 'sudo'] }),
    ]);
    expect(acl.allows('sys/seal', 'update', true)).toBe(false);
    expect(acl.allows('sys/rotate', 'update', true)).toBe(true);
    expect(new Acl([], { root: true }).allows('anything/at/all', 'delete', true)).toBe(true);
    expect(new Acl([]).allows('anything', 'read')).toBe(false);
  });

  it('refuses malformed policies and options it would not enforce', async () => {
    await expect(parsePolicy('p', 'path "a*b" { capabilities = ["read"] }')).rejects.toThrow(
      /only at the end/,
    );
    await expect(parsePolicy('p', 'path "a/b+c" { capabilities = ["read"] }')).rejects.toThrow(
      /whole path segment/,
    );
    await expect(parsePolicy('p', 'path "a" { capabilities = [] }')).rejects.toThrow(/non-empty/);
    await expect(
      parsePolicy('p', 'path "a" {\n capabilities = ["read"]\n min_wrapping_ttl = "1h"\n}'),
    ).rejects.toThrow(/min_wrapping_ttl is not supported/);
    await expect(parsePolicy('Bad Name', 'path "a" { capabilities = ["read"] }')).rejects.toThrow(
      /policy names/,
    );
  });

  it('tells whether a token reaches anywhere under a mount (for the UI mount lookup)', () => {
    const reaches = (rules: Record<string, string[]>) =>
      new Acl([policy('p', rules)]).reachesUnder('secret/');
    expect(reaches({ 'secret/data/app/*': ['read'] })).toBe(true);
    expect(reaches({ 'secret/metadata/app': ['list'] })).toBe(true);
    expect(reaches({ 'secret/*': ['read'] })).toBe(true);
    expect(reaches({ 'secr*': ['read'] })).toBe(true);
    expect(reaches({ '*': ['read'] })).toBe(true);
    expect(reaches({ '+/data/app': ['read'] })).toBe(true);
    expect(reaches({ 'transit/keys/*': ['read'] })).toBe(false);
    expect(reaches({ 'secretive/*': ['read'] })).toBe(false);
    expect(reaches({ secret: ['read'] })).toBe(false);
    expect(reaches({ 'sys/internal/ui/mounts/*': ['read'] })).toBe(false);
    expect(reaches({ 'secret/*': ['deny'] })).toBe(false);
    expect(reaches({ 'secret/data/*': ['deny'], 'secret/metadata/*': ['list'] })).toBe(true);
    expect(new Acl([], { root: true }).reachesUnder('secret/')).toBe(true);
  });
});

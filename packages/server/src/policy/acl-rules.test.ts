import { describe, expect, it } from 'vitest';
import { Acl } from './acl.js';
import type { Policy } from './policy-parse.js';
import { policyFromDocument } from './policy-parse.js';

// The parts of the ACL that acl.test.ts (matching, priority) and acl-reasons.test.ts (reasons)
// leave out: the order `matching` gives, the merge of blocks into one rule (its sources and
// parameter constraints), the root ACL's answers, `allowsWithoutParameters`, and the mount
// reach of a rule with several segments.
const policy = (name: string, rules: Record<string, unknown>) =>
  policyFromDocument(name, { path: rules }, '');
const grants = (name: string, rules: Record<string, string[]>) =>
  policy(name, Object.fromEntries(Object.entries(rules).map(([p, c]) => [p, { capabilities: c }])));
const entries = (values: ReadonlyMap<string, readonly unknown[]> | undefined) =>
  values === undefined ? undefined : Object.fromEntries(values);

describe('matching: every rule whose pattern matches, the deciding one first', () => {
  it('orders by priority, whatever the order the rules were written in, and leaves out the rest', () => {
    const acl = new Acl([
      grants('a', { 'secret/*': ['list'], 'secret/data/+/db': ['read'], 'other/*': ['read'] }),
      grants('b', {
        '*': ['read'],
        'secret/data/app/db': ['update'],
        'secret/+/app/db': ['create'],
        'secret/data/*': ['patch'],
        'secret/data/app/dbx': ['read'],
      }),
    ]);
    const expected = [
      'secret/data/app/db', // exact: no wildcard at all
      'secret/data/+/db', // first wildcard at 12, no trailing *
      'secret/data/*', // first wildcard at 12, trailing *
      'secret/+/app/db', // first wildcard at 7, no trailing *
      'secret/*', // first wildcard at 7, trailing *
      '*', // first wildcard at 0
    ];
    expect(acl.matching('secret/data/app/db').map((r) => r.pattern)).toEqual(expected);
    expect(acl.matching('nowhere').map((r) => r.pattern)).toEqual(['*']);
    expect(new Acl([grants('a', { 'x/*': ['read'] })]).matching('y')).toEqual([]);
    // What matching gives is what decide names: the first rule decides.
    expect(acl.decide('secret/data/app/db', 'update').rule?.pattern).toBe('secret/data/app/db');
  });

  it('gives each rule as merged: pattern, capabilities, parameters, sources (nothing compiled)', () => {
    const [rule] = new Acl([grants('p', { 'a/+': ['read'] })]).matching('a/b');
    expect(rule).toEqual({
      pattern: 'a/+',
      capabilities: new Set(['read']),
      parameters: { allowed: undefined, denied: undefined, required: [] },
      sources: [{ policy: 'p', capabilities: ['read'] }],
    });
  });
});

describe('merging the blocks of one pattern', () => {
  it("names each policy once in the rule's sources, in the token's order, with all its blocks' capabilities", () => {
    const twoBlocks = policy('p', {
      'a/*': [{ capabilities: ['read'] }, { capabilities: ['update', 'read'] }],
    });
    const other = grants('q', { 'a/*': ['list'] });
    const acl = new Acl([twoBlocks, other]);
    expect(acl.matching('a/x')[0]?.sources).toEqual([
      { policy: 'p', capabilities: ['read', 'update'] },
      { policy: 'q', capabilities: ['list'] },
    ]);
    expect([...acl.capabilities('a/x')]).toEqual(['read', 'update', 'list']);
    expect(acl.decide('a/x', 'read').reason).toBe('rule "a/*" grants read (from policy "p")');
    expect(new Acl([other, twoBlocks]).matching('a/x')[0]?.sources).toEqual([
      { policy: 'q', capabilities: ['list'] },
      { policy: 'p', capabilities: ['read', 'update'] },
    ]);
  });

  it('keeps a deny alone, whichever comes first, and drops the constraints of the grant', () => {
    const grant = policy('grant', {
      'a/*': {
        capabilities: ['read', 'update'],
        allowed_parameters: { x: ['1'] },
        denied_parameters: { y: [] },
      },
    });
    const deny = grants('deny', { 'a/*': ['deny'] });
    for (const policies of [
      [grant, deny],
      [deny, grant],
    ]) {
      const acl = new Acl(policies);
      const [rule] = acl.matching('a/x');
      expect([...(rule?.capabilities ?? [])]).toEqual(['deny']);
      expect(rule?.parameters.allowed).toBeUndefined();
      expect(rule?.parameters.denied).toBeUndefined();
      expect(rule?.sources.map((s) => s.policy)).toEqual(policies.map((p) => p.name));
      expect(acl.capabilities('a/x').size).toBe(0);
      expect(acl.decide('a/x', 'read').reason).toBe(
        'rule "a/*": policy "deny" says deny, which refuses every operation',
      );
    }
    // Required names too, whichever comes first (sys/policies/explain shows the rule).
    const required = policy('req', {
      'a/*': { capabilities: ['update'], required_parameters: ['z'] },
    });
    for (const policies of [
      [deny, required],
      [required, deny],
    ]) {
      expect(new Acl(policies).matching('a/x')[0]?.parameters).toEqual({
        allowed: undefined,
        denied: undefined,
        required: [],
      });
    }
  });

  it('takes no constraint from a deny rule itself (a hand-built one carrying some)', () => {
    const deny: Policy = {
      name: 'deny',
      text: '',
      rules: [
        {
          pattern: 'a/*',
          capabilities: new Set(['deny']),
          allowedParameters: new Map([['x', []]]),
          deniedParameters: new Map([['y', []]]),
          requiredParameters: ['z'],
        },
      ],
    };
    expect(
      new Acl([grants('grant', { 'a/*': ['read'] }), deny]).matching('a/x')[0]?.parameters,
    ).toEqual({
      allowed: undefined,
      denied: undefined,
      required: [],
    });
  });

  it('merges denied_parameters as allowed_parameters: lists joined (newest first), an empty list wins either way', () => {
    const acl = new Acl([
      policy('a', { p: { capabilities: ['update'], denied_parameters: { x: ['1'], y: [] } } }),
      policy('b', { p: { capabilities: ['update'], denied_parameters: { x: ['2'], y: ['3'] } } }),
      policy('c', { p: { capabilities: ['update'], denied_parameters: { z: ['4'] } } }),
    ]);
    const [rule] = acl.matching('p');
    expect(entries(rule?.parameters.denied)).toEqual({ x: ['2', '1'], y: [], z: ['4'] });
    expect(rule?.parameters.allowed).toBeUndefined();
    expect(acl.decide('p', 'update', { data: { y: 'anything' } })).toMatchObject({
      allowed: false,
      reason: 'rule "p": parameter "y" is denied by denied_parameters',
    });
    expect(acl.decide('p', 'update', { data: { x: '3', z: '5' } }).allowed).toBe(true);
  });

  it('names a required parameter once, however many policies require it', () => {
    const requires = (name: string, required: string[]) =>
      policy(name, { p: { capabilities: ['update'], required_parameters: required } });
    const acl = new Acl([requires('a', ['x']), requires('b', ['y', 'x']), requires('c', ['x'])]);
    expect(acl.matching('p')[0]?.parameters.required).toEqual(['x', 'y']);
  });

  it('reads an empty allowed_parameters map as no constraint (not as "no parameter allowed")', () => {
    const acl = new Acl([policy('p', { p: { capabilities: ['update'], allowed_parameters: {} } })]);
    expect(acl.matching('p')[0]?.parameters).toEqual({
      allowed: undefined,
      denied: undefined,
      required: [],
    });
    expect(acl.decide('p', 'update', { data: { any: 1 } })).toEqual({
      allowed: true,
      rule: acl.matching('p')[0],
      reason: 'rule "p" grants update (from policy "p")',
    });
    expect(acl.allowsWithoutParameters('p', 'update')).toBe(true);
  });
});

describe('the root ACL', () => {
  it('has every capability but deny on every path, and reaches every mount', () => {
    const root = new Acl([grants('p', { '*': ['deny'] })], { root: true });
    expect(root.isRoot).toBe(true);
    expect([...root.capabilities('any/path')]).toEqual([
      'create',
      'read',
      'update',
      'patch',
      'delete',
      'list',
      'sudo',
    ]);
    expect(root.reachesUnder('transit/')).toBe(true);
    expect(root.allowsWithoutParameters('any/path', 'update')).toBe(true);
    expect(root.allows('any/path', 'update', true)).toBe(true);
    const plain = new Acl([grants('p', { '*': ['read'] })]);
    expect(plain.isRoot).toBe(false);
    expect(new Acl([grants('p', { '*': ['read'] })], {}).isRoot).toBe(false);
    expect(plain.capabilities('x').size).toBe(1);
    expect(new Acl([grants('p', { 'a/*': ['read'] })]).capabilities('b').size).toBe(0);
  });
});

describe('allowsWithoutParameters (requests whose parameters are not Vault’s)', () => {
  const acl = new Acl([
    policy('p', {
      'constrained/*': {
        capabilities: ['read', 'create', 'update', 'patch', 'delete', 'list'],
        required_parameters: ['x'],
      },
      'free/*': { capabilities: ['read', 'update'] },
      'closed/*': { capabilities: ['deny'] },
    }),
  ]);

  it('refuses an operation whose parameters the deciding rule constrains', () => {
    for (const op of ['read', 'create', 'update', 'patch'] as const)
      expect(acl.allowsWithoutParameters('constrained/a', op)).toBe(false);
  });

  it('admits operations without parameters there, and any granted operation under an unconstrained rule', () => {
    expect(acl.allowsWithoutParameters('constrained/a', 'delete')).toBe(true);
    expect(acl.allowsWithoutParameters('constrained/a', 'list')).toBe(true);
    expect(acl.allowsWithoutParameters('free/a', 'read')).toBe(true);
    expect(acl.allowsWithoutParameters('free/a', 'update')).toBe(true);
  });

  it('refuses what decide refuses: an ungranted operation, a deny, a path no rule matches', () => {
    expect(acl.allowsWithoutParameters('free/a', 'delete')).toBe(false);
    expect(acl.allowsWithoutParameters('closed/a', 'delete')).toBe(false);
    expect(acl.allowsWithoutParameters('elsewhere', 'delete')).toBe(false);
  });
});

describe('decide: sudo and parameters', () => {
  const acl = new Acl([
    policy('p', {
      'forms/*': {
        capabilities: ['update', 'delete', 'list', 'sudo'],
        denied_parameters: { admin: [] },
      },
      'plain/*': { capabilities: ['update'] },
    }),
  ]);

  it('grants with sudo where the rule gives sudo, and without it when the path does not need it', () => {
    expect(acl.decide('forms/a', 'delete', { sudo: true })).toMatchObject({
      allowed: true,
      reason: 'rule "forms/*" grants delete (from policy "p")',
    });
    expect(acl.decide('plain/a', 'update', { sudo: false })).toMatchObject({
      allowed: true,
      reason: 'rule "plain/*" grants update (from policy "p")',
    });
    expect(acl.allows('plain/a', 'update')).toBe(true);
  });

  it('never judges the parameters of a delete or a list, and says nothing of them', () => {
    for (const op of ['delete', 'list'] as const)
      expect(acl.decide('forms/a', op, { data: { admin: true } })).toMatchObject({
        allowed: true,
        reason: `rule "forms/*" grants ${op} (from policy "p")`,
      });
  });

  it('judges the parameters of a write against the deciding rule only', () => {
    expect(acl.decide('forms/a', 'update', { data: { admin: true } }).allowed).toBe(false);
    expect(acl.decide('plain/a', 'update', { data: { admin: true } })).toMatchObject({
      allowed: true,
      reason: 'rule "plain/*" grants update (from policy "p")',
    });
  });

  it('takes a hand-built rule without capabilities as granting nothing, and reaching no mount', () => {
    const empty: Policy = {
      name: 'empty',
      text: '',
      rules: [{ pattern: 'secret/*', capabilities: new Set(), requiredParameters: [] }],
    };
    const none = new Acl([empty]);
    expect(none.reachesUnder('secret/')).toBe(false);
    expect(none.decide('secret/a', 'read')).toMatchObject({
      allowed: false,
      rule: expect.objectContaining({ pattern: 'secret/*' }),
    });
  });
});

describe('segment wildcards and trailing globs, at their edges', () => {
  it('a trailing "+*" needs a non-empty segment, then anything below', () => {
    const acl = new Acl([grants('p', { 'a/+*': ['read'] })]);
    expect(acl.allows('a/x', 'read')).toBe(true);
    expect(acl.allows('a/x/y', 'read')).toBe(true);
    expect(acl.allows('a/', 'read')).toBe(false);
    expect(acl.allows('a', 'read')).toBe(false);
    expect(acl.allows('b/x', 'read')).toBe(false);
  });

  it('a trailing glob compares every segment before its last exactly, or by "+"', () => {
    const acl = new Acl([grants('p', { 'a/+/c/d*': ['read'] })]);
    expect(acl.allows('a/b/c/d', 'read')).toBe(true);
    expect(acl.allows('a/b/c/dd/e', 'read')).toBe(true);
    expect(acl.allows('a/b/x/d', 'read')).toBe(false);
    expect(acl.allows('x/b/c/d', 'read')).toBe(false);
    expect(acl.allows('a/b/c/xd', 'read')).toBe(false);
    expect(acl.allows('a/b/c', 'read')).toBe(false);
  });

  it('a path one segment shorter than an exact pattern, or longer, is not matched', () => {
    const acl = new Acl([grants('p', { 'a/+/c': ['read'] })]);
    expect(acl.allows('a/b/c', 'read')).toBe(true);
    expect(acl.allows('a/b', 'read')).toBe(false);
    expect(acl.allows('a/b/c/d', 'read')).toBe(false);
    expect(acl.allows('a/b/d', 'read')).toBe(false);
  });
});

describe('reachesUnder: mounts of several segments, and spellings of the mount path', () => {
  const reaches = (rules: Record<string, string[]>, mount: string) =>
    new Acl([grants('p', rules)]).reachesUnder(mount);

  it('follows every segment of the mount path', () => {
    expect(reaches({ 'auth/approle/role/*': ['read'] }, 'auth/approle/')).toBe(true);
    expect(reaches({ 'auth/*': ['read'] }, 'auth/approle/')).toBe(true);
    expect(reaches({ 'auth/app*': ['read'] }, 'auth/approle/')).toBe(true);
    expect(reaches({ 'auth/+/login': ['update'] }, 'auth/approle/')).toBe(true);
    expect(reaches({ 'auth/userpass/login': ['update'] }, 'auth/approle/')).toBe(false);
    expect(reaches({ 'auth/approle': ['read'] }, 'auth/approle/')).toBe(false);
    expect(reaches({ auth: ['read'] }, 'auth/approle/')).toBe(false);
    expect(reaches({ 'auth/x*': ['read'] }, 'auth/approle/')).toBe(false);
  });

  it('reads an exact pattern segment exactly, never as a prefix', () => {
    expect(reaches({ secr: ['read'] }, 'secret/')).toBe(false);
    expect(reaches({ 'secr/data': ['read'] }, 'secret/')).toBe(false);
    expect(reaches({ 'auth/app/role': ['read'] }, 'auth/approle/')).toBe(false);
  });

  it('takes the mount path with or without its trailing slashes', () => {
    for (const mount of ['secret', 'secret/', 'secret//'])
      expect(reaches({ 'secret/data/*': ['read'] }, mount)).toBe(true);
    expect(reaches({ 'auth/approle/role/*': ['read'] }, 'auth/approle//')).toBe(true);
  });
});

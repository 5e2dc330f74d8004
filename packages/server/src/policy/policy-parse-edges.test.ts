import { describe, expect, it } from 'vitest';
import { parsePolicy, policyFromDocument } from './policy-parse.js';

// What policy-parse.test.ts leaves out: every rule option custos refuses to ignore, the accepted
// edges of the syntax (a top-level "name", "+*", a trailing "/"), and the exact rule each block
// gives (no constraint keys where none was written; a deny keeps nothing else).
const refusal = (message: string) =>
  expect.objectContaining({ code: 'ERR_INVALID_REQUEST', message });
const parse = (paths: Record<string, unknown>) => policyFromDocument('p', { path: paths }, '');

describe('rule options custos does not enforce', () => {
  it.each([
    'min_wrapping_ttl',
    'max_wrapping_ttl',
    'control_group',
    'mfa_methods',
    'subscribe_event_types',
  ])('refuses %s by name, not as an unknown field', (option) => {
    expect(() => parse({ a: { capabilities: ['read'], [option]: 'x' } })).toThrow(
      refusal(`path rule 1: ${option} is not supported by custos`),
    );
  });
});

describe('accepted syntax at its edges', () => {
  it('takes a top-level "name" beside "path" (as Vault\'s JSON form may carry it)', () => {
    const policy = policyFromDocument(
      'p',
      { name: 'p', path: { a: { capabilities: ['read'] } } },
      'text',
    );
    expect(policy).toEqual({
      name: 'p',
      text: 'text',
      rules: [{ pattern: 'a', capabilities: new Set(['read']), requiredParameters: [] }],
    });
    expect(() =>
      policyFromDocument(
        'p',
        { name: 'p', names: 'q', path: { a: { capabilities: ['read'] } } },
        '',
      ),
    ).toThrow(refusal('policy has a top-level field other than "path"'));
  });

  it('takes a pattern ending in "/", a "+" segment before the trailing "*", and a lone "+"', async () => {
    for (const pattern of ['secret/', 'a/+*', '+', 'a/+/+*'])
      expect(parse({ [pattern]: { capabilities: ['read'] } }).rules[0]?.pattern).toBe(pattern);
    expect(() => parse({ 'a/b+*': { capabilities: ['read'] } })).toThrow(
      refusal('path rule 1: "+" must be a whole path segment'),
    );
    expect(() => parse({ 'a*+': { capabilities: ['read'] } })).toThrow(
      refusal('path rule 1: "*" is allowed only at the end of the path pattern'),
    );
  });

  it('names a block by its number only when a pattern has several blocks', () => {
    expect(() => parse({ a: [{ capabilities: ['nope'] }] })).toThrow(
      refusal(
        'path rule 1: unknown capability (use create, read, update, patch, delete, list, sudo, deny)',
      ),
    );
    expect(() =>
      parse({ a: { capabilities: ['read'] }, b: [{ capabilities: ['read'] }, { policy: 'x' }] }),
    ).toThrow(refusal('path rule 2 (block 2): "policy" must be one of deny, read, write, sudo'));
    expect(() => parse({ a: [{ capabilities: ['read'] }, 7] })).toThrow(
      refusal('path rule 1 (block 2) must be an object with "capabilities"'),
    );
  });
});

describe('the rule a block gives', () => {
  it('has no constraint keys where the block wrote none', () => {
    const [rule] = parse({ a: { capabilities: ['read', 'read', 'list'] } }).rules;
    expect(rule).toStrictEqual({
      pattern: 'a',
      capabilities: new Set(['read', 'list']),
      requiredParameters: [],
    });
    expect(Object.keys(rule ?? {})).toEqual(['pattern', 'capabilities', 'requiredParameters']);
  });

  it('keeps each constraint as written, names in lower case', () => {
    const [rule] = parse({
      a: {
        capabilities: ['update'],
        allowed_parameters: { Name: ['x', 1] },
        denied_parameters: { Other: [] },
        required_parameters: ['Name', 'NAME', 'name', 'ttl'],
      },
    }).rules;
    expect(rule).toStrictEqual({
      pattern: 'a',
      capabilities: new Set(['update']),
      allowedParameters: new Map([['name', ['x', 1]]]),
      deniedParameters: new Map([['other', []]]),
      requiredParameters: ['name', 'ttl'],
    });
  });

  it('a deny keeps nothing else: no other capability, no constraint', async () => {
    const denied = {
      pattern: 'a',
      capabilities: new Set(['deny']),
      requiredParameters: [],
    };
    expect(
      parse({
        a: {
          capabilities: ['read', 'deny', 'update'],
          allowed_parameters: { x: [] },
          denied_parameters: { y: [] },
          required_parameters: ['z'],
        },
      }).rules,
    ).toStrictEqual([denied]);
    const fromHcl = await parsePolicy(
      'p',
      'path "a" {\n  policy = "deny"\n  required_parameters = ["z"]\n}\n',
    );
    expect(fromHcl.rules).toStrictEqual([denied]);
  });

  it('still checks the constraints of a deny (a malformed policy is refused whatever it grants)', () => {
    expect(() => parse({ a: { capabilities: ['deny'], required_parameters: 'z' } })).toThrow(
      refusal('path rule 1: "required_parameters" must be a list of parameter names'),
    );
    expect(() => parse({ a: { capabilities: ['deny'], denied_parameters: [] } })).toThrow(
      refusal('path rule 1: "denied_parameters" must map parameter names to lists'),
    );
  });

  it('refuses an empty required parameter name, and a denied_parameters value that is not a list', () => {
    expect(() => parse({ a: { capabilities: ['read'], required_parameters: ['x', ''] } })).toThrow(
      refusal('path rule 1: "required_parameters" must be a list of parameter names'),
    );
    expect(() =>
      parse({ a: { capabilities: ['read'], denied_parameters: { d: [], D: ['1'] } } }),
    ).toThrow(
      refusal(
        'path rule 1: "denied_parameters" names a parameter twice (names are not case-sensitive)',
      ),
    );
    expect(() => parse({ a: { capabilities: ['read'], allowed_parameters: { x: {} } } })).toThrow(
      refusal(
        'path rule 1: each parameter of "allowed_parameters" needs a list of values ([] for any)',
      ),
    );
  });
});

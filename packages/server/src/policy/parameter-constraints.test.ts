import { describe, expect, it } from 'vitest';
import { Acl } from './acl.js';
import { globMatch, parameterRefusal } from './parameter-constraints.js';
import { parsePolicy } from './policy-parse.js';

const values = (entries: Record<string, unknown[]>) => new Map(Object.entries(entries));

describe('globMatch (Vault GlobbedStringsMatch)', () => {
  it('matches a leading, trailing or both-ends star; a lone star only itself', () => {
    expect(globMatch('app-*', 'app-one')).toBe(true);
    expect(globMatch('app-*', 'xapp-one')).toBe(false);
    expect(globMatch('*-prod', 'db-prod')).toBe(true);
    expect(globMatch('*-prod', 'db-prod-2')).toBe(false);
    expect(globMatch('*mid*', 'a-mid-b')).toBe(true);
    expect(globMatch('*', 'anything')).toBe(false);
    expect(globMatch('*', '*')).toBe(true);
    expect(globMatch('a*b', 'a*b')).toBe(true);
    expect(globMatch('a*b', 'axb')).toBe(false);
  });
});

describe('parameterRefusal', () => {
  it('checks required names by their lower-case spelling, present as own keys', () => {
    const c = { required: ['ttl'] };
    expect(parameterRefusal(c, { ttl: '1h' })).toBeUndefined();
    expect(parameterRefusal(c, { TTL: '1h' })).toBe('required parameter "ttl" is missing');
    expect(parameterRefusal(c, Object.create({ ttl: '1h' }))).toBe(
      'required parameter "ttl" is missing',
    );
  });

  it('denies listed names in any case, any value for an empty list, and all for "*"', () => {
    const c = { denied: values({ password: [], mode: ['admin*'] }), required: [] };
    expect(parameterRefusal(c, { Password: 'x' })).toBe(
      'parameter "Password" is denied by denied_parameters',
    );
    expect(parameterRefusal(c, { mode: 'admin-full' })).toMatch(/"mode" is denied/);
    expect(parameterRefusal(c, { mode: ['user', 'admin'] })).toMatch(/"mode" is denied/);
    expect(parameterRefusal(c, { mode: 'user, admin' })).toMatch(/"mode" is denied/);
    expect(parameterRefusal(c, { mode: 'user', other: 1 })).toBeUndefined();
    const all = { denied: values({ '*': [] }), required: [] };
    expect(parameterRefusal(all, { a: 1 })).toBe('denied_parameters "*" denies every parameter');
    expect(parameterRefusal(all, {})).toBeUndefined();
  });

  it('allows only listed names (or "*") with matching values; empty list: any value', () => {
    const c = { allowed: values({ data: [], ttl: ['1h', 5], flag: [true] }), required: [] };
    expect(parameterRefusal(c, { data: { nested: 'free' }, ttl: '1h' })).toBeUndefined();
    expect(parameterRefusal(c, { ttl: 5 })).toBeUndefined();
    expect(parameterRefusal(c, { ttl: '5' })).toBeUndefined(); // fields read 5 and "5" alike
    expect(parameterRefusal(c, { flag: 'true' })).toBeUndefined();
    expect(parameterRefusal(c, { ttl: '2h' })).toMatch(/"ttl" has a value/);
    expect(parameterRefusal(c, { ttl: '' })).toMatch(/"ttl" has a value/);
    expect(parameterRefusal(c, { ttl: [] })).toMatch(/"ttl" has a value/);
    expect(parameterRefusal(c, { ttl: null })).toMatch(/"ttl" has a value/);
    expect(parameterRefusal(c, { other: 1 })).toBe(
      'parameter "other" is not in allowed_parameters',
    );
    const star = { allowed: values({ '*': [], ttl: ['1h'] }), required: [] };
    expect(parameterRefusal(star, { other: 1 })).toBeUndefined();
    expect(parameterRefusal(star, { ttl: '2h' })).toMatch(/"ttl" has a value/);
  });

  it('judges lists and comma strings element by element; a glob never passes a comma string whole', () => {
    const c = { allowed: values({ policies: ['app-*', 'a,b'] }), required: [] };
    expect(parameterRefusal(c, { policies: ['app-1', 'app-2'] })).toBeUndefined();
    expect(parameterRefusal(c, { policies: 'app-1, app-2' })).toBeUndefined();
    expect(parameterRefusal(c, { policies: 'a,b' })).toBeUndefined(); // listed exactly
    expect(parameterRefusal(c, { policies: 'app-1,root' })).toMatch(/has a value/);
    expect(parameterRefusal(c, { policies: ['app-1', 'root'] })).toMatch(/has a value/);
  });

  it('compares objects and lists in a list deeply, and refuses a body that is not an object', () => {
    const c = { allowed: values({ options: [{ cas: 0 }] }), required: [] };
    expect(parameterRefusal(c, { options: { cas: 0 } })).toBeUndefined();
    expect(parameterRefusal(c, { options: { cas: 1 } })).toMatch(/has a value/);
    for (const body of [[{ options: { cas: 0 } }], 'options', 3])
      expect(parameterRefusal(c, body)).toBe(
        'the request body is not a JSON object, so its parameters cannot be checked',
      );
    expect(parameterRefusal({ required: [] }, [1])).toBeUndefined();
  });
});

describe('parameter constraints merged across policies (Vault NewACL)', () => {
  const acl = async (...texts: string[]) =>
    new Acl(await Promise.all(texts.map((text, i) => parsePolicy(`p${i}`, text))));

  it('joins value lists, lets an empty list win, joins required names, and a deny clears them', async () => {
    const merged = await acl(
      'path "a" {\n  capabilities = ["update"]\n  allowed_parameters = { x = ["1"], y = ["1"] }\n  required_parameters = ["x"]\n}',
      'path "a" {\n  capabilities = ["create"]\n  allowed_parameters = { x = ["2"], y = [] }\n  required_parameters = ["y"]\n}',
    );
    const rule = merged.matching('a')[0];
    expect(Object.fromEntries(rule?.parameters.allowed ?? [])).toEqual({ x: ['2', '1'], y: [] });
    expect(rule?.parameters.required).toEqual(['x', 'y']);
    expect([...(rule?.capabilities ?? [])]).toEqual(['update', 'create']);
    expect(merged.decide('a', 'update', { data: { x: '2', y: 'z' } }).allowed).toBe(true);
    expect(merged.decide('a', 'update', { data: { x: '3', y: 'z' } }).allowed).toBe(false);
    expect(merged.decide('a', 'update', { data: { x: '1' } }).allowed).toBe(false);
    // A constraint in one policy narrows a grant of another (Vault's merge, known to its users).
    const narrowed = await acl(
      'path "a" {\n  capabilities = ["update"]\n}',
      'path "a" {\n  capabilities = ["update"]\n  allowed_parameters = { x = [] }\n}',
    );
    expect(narrowed.decide('a', 'update', { data: { y: 1 } }).allowed).toBe(false);
    const denied = await acl(
      'path "a" {\n  capabilities = ["update"]\n  allowed_parameters = { x = [] }\n}',
      'path "a" {\n  capabilities = ["deny"]\n}',
    );
    expect(denied.matching('a')[0]?.parameters.allowed).toBeUndefined();
    expect(denied.decide('a', 'update', { data: {} }).allowed).toBe(false);
  });

  it('checks parameters for read, create, update and patch, not for delete or list', async () => {
    const merged = await acl(
      'path "a" {\n  capabilities = ["read", "create", "update", "patch", "delete", "list"]\n  required_parameters = ["x"]\n}',
    );
    for (const op of ['read', 'create', 'update', 'patch'] as const)
      expect(merged.decide('a', op, { data: {} }).allowed).toBe(false);
    for (const op of ['delete', 'list'] as const)
      expect(merged.decide('a', op, { data: {} }).allowed).toBe(true);
  });
});

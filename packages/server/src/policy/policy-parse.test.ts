import { describe, expect, it } from 'vitest';
import { Acl } from './acl.js';
import { CAPABILITIES, parsePolicy, validatePolicyName } from './policy-parse.js';

// Each refusal of the policy parser, word for word (they reach the operator and the audit log,
// so they name a rule by its place, never by its content), and each limit at its edge.
const refusal = (message: string) =>
  expect.objectContaining({ code: 'ERR_INVALID_REQUEST', message });
const rules = (paths: unknown) => JSON.stringify({ path: paths });

describe('policy names', () => {
  it('are 1 to 128 characters of a-z 0-9 . _ -, starting with a letter or digit', () => {
    const refused = refusal('policy names are 1-128 characters of a-z 0-9 . _ - (lowercase)');
    for (const good of ['a', '0', `a${'b'.repeat(127)}`, 'app.v2_read-only'])
      expect(validatePolicyName(good)).toBe(good);
    for (const bad of ['', `a${'b'.repeat(128)}`, '-app', 'App', 'app/x', ' app', 'app\n'])
      expect(() => validatePolicyName(bad)).toThrow(refused);
  });
});

describe('policy documents', () => {
  it('must be a JSON object with a "path" object', () => {
    expect(() => parsePolicy('p', 'path "x" {}')).toThrow(
      refusal(
        'policy must be Vault\'s JSON form, e.g. {"path": {"secret/data/*": {"capabilities": ["read"]}}} (HCL is not supported)',
      ),
    );
    for (const text of ['[]', 'null', '"text"', '3'])
      expect(() => parsePolicy('p', text)).toThrow(
        refusal('policy must be a JSON object with a "path" object'),
      );
    for (const text of ['{}', '{"path":[]}', '{"path":null}', '{"path":"a"}'])
      expect(() => parsePolicy('p', text)).toThrow(
        refusal('policy must have a "path" object mapping path patterns to rules'),
      );
  });

  it('names a bad rule by its place in "path"', () => {
    const ok = { capabilities: ['read'] };
    expect(() => parsePolicy('p', rules({ a: ok, b: [] }))).toThrow(
      refusal('path rule 2 must be an object with "capabilities"'),
    );
    expect(() => parsePolicy('p', rules({ a: null }))).toThrow(
      refusal('path rule 1 must be an object with "capabilities"'),
    );
    expect(() => parsePolicy('p', rules({ a: { capabilities: ['read'], note: 'x' } }))).toThrow(
      refusal('path rule 1 has a field other than "capabilities"'),
    );
    expect(() =>
      parsePolicy(
        'p',
        rules({ a: { capabilities: ['read'], min_wrapping_ttl: 1, control_group: {} } }),
      ),
    ).toThrow(refusal('path rule 1: min_wrapping_ttl, control_group is not supported by custos'));
    expect(() => parsePolicy('p', rules({ a: {} }))).toThrow(
      refusal('path rule 1 needs a non-empty "capabilities" list'),
    );
    expect(() => parsePolicy('p', rules({ a: { capabilities: 'read' } }))).toThrow(
      refusal('path rule 1 needs a non-empty "capabilities" list'),
    );
    expect(() => parsePolicy('p', rules({ a: { capabilities: ['read', 'root'] } }))).toThrow(
      refusal(
        'path rule 1: unknown capability (use create, read, update, patch, delete, list, sudo, deny)',
      ),
    );
  });

  it('takes patterns of 1 to 512 characters, not starting with "/", with "*" last and "+" whole', () => {
    const parse = (pattern: string) =>
      parsePolicy('p', rules({ [pattern]: { capabilities: ['read'] } }));
    for (const good of ['a', 'a'.repeat(512), 'secret/*', '*', '+/data/+', 'a/+/b*'])
      expect(parse(good).rules[0]?.pattern).toBe(good);
    expect(() => parse('')).toThrow(refusal('path rule 1: path patterns are 1-512 characters'));
    expect(() => parse('a'.repeat(513))).toThrow(
      refusal('path rule 1: path patterns are 1-512 characters'),
    );
    expect(() => parse('/secret')).toThrow(
      refusal('path rule 1: the path pattern must not start with "/"'),
    );
    expect(() => parse('a*/b')).toThrow(
      refusal('path rule 1: "*" is allowed only at the end of the path pattern'),
    );
    expect(() => parse('**')).toThrow(
      refusal('path rule 1: "*" is allowed only at the end of the path pattern'),
    );
    expect(() => parse('a/b+')).toThrow(refusal('path rule 1: "+" must be a whole path segment'));
    expect(() => parse('a+*')).toThrow(refusal('path rule 1: "+" must be a whole path segment'));
  });

  it('keeps the name, the text and every rule with its capabilities', () => {
    const text = rules({
      'a/*': { capabilities: ['read', 'list'] },
      b: { capabilities: ['deny'] },
    });
    const policy = parsePolicy('ops', text);
    expect(policy.name).toBe('ops');
    expect(policy.text).toBe(text);
    expect(policy.rules.map((r) => [r.pattern, [...r.capabilities]])).toEqual([
      ['a/*', ['read', 'list']],
      ['b', ['deny']],
    ]);
    expect(CAPABILITIES).toEqual([
      'create',
      'read',
      'update',
      'patch',
      'delete',
      'list',
      'sudo',
      'deny',
    ]);
    const acl = new Acl([policy]);
    expect(acl.allows('a/x', 'list')).toBe(true);
    expect(acl.allows('b', 'read')).toBe(false);
  });
});

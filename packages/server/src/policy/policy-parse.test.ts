import { describe, expect, it } from 'vitest';
import { Acl } from './acl.js';
import {
  CAPABILITIES,
  parsePolicy,
  policyFromDocument,
  validatePolicyName,
} from './policy-parse.js';

// Each refusal of the policy parser, word for word (they reach the operator and the audit log,
// so they name a rule by its place, never by its content), and each limit at its edge.
const refusal = (message: string) =>
  expect.objectContaining({ code: 'ERR_INVALID_REQUEST', message });
const json = (paths: unknown) => JSON.stringify({ path: paths });
const block = (pattern: string, body: string) => `path "${pattern}" {\n${body}\n}\n`;

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
  it('are read as HCL, or as JSON when they start with "{", to the same rules', async () => {
    // (HCL's converter hands the blocks back in the sorted order of their patterns.)
    const hcl = `# comment\n${block('b', '  capabilities = ["deny"]')}${block('secret/data/app/*', '  capabilities = ["read", "list"]')}`;
    const fromJson = json({
      b: { capabilities: ['deny'] },
      'secret/data/app/*': { capabilities: ['read', 'list'] },
    });
    for (const text of [hcl, fromJson]) {
      const policy = await parsePolicy('ops', text);
      expect(policy.name).toBe('ops');
      expect(policy.text).toBe(text);
      expect(policy.rules.map((r) => [r.pattern, [...r.capabilities]])).toEqual([
        ['b', ['deny']],
        ['secret/data/app/*', ['read', 'list']],
      ]);
    }
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
  });

  it("refuses malformed HCL with the parser's diagnosis, not the text", async () => {
    const text = 'path "secret/private-name" {\n  capabilities = ["read"\n}\n';
    const error = await parsePolicy('p', text).catch((err: Error) => err);
    expect(error).toMatchObject({ code: 'ERR_INVALID_REQUEST' });
    expect((error as Error).message).toMatch(
      /^policy is not valid HCL: policy:3,1-2: Missing item separator/,
    );
    expect((error as Error).message).not.toContain('private-name');
  });

  it('refuses HCL expressions where a policy holds literals', async () => {
    const refused = refusal(
      'policy is not valid: HCL expressions (interpolation, template directives, variables, function calls) are not allowed in a policy; write literal values',
    );
    for (const body of [
      '  capabilities = [read]',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an HCL interpolation is the point
      '  capabilities = ["${var.cap}"]',
      '  capabilities = [upper("read")]',
      '  capabilities = ["read"]\n  allowed_parameters = { (var.x) = [] }',
      '  capabilities = ["read"]\n  allowed_parameters = { x = ["%{ if true }a%{ endif }"] }',
    ])
      await expect(parsePolicy('p', block('a', body))).rejects.toThrow(refused);
  });

  it('refuses broken JSON, and a key given twice in a JSON object (the deny would be lost)', async () => {
    await expect(parsePolicy('p', '{"path": {"secret/private": ')).rejects.toThrow(
      refusal('policy is not valid JSON (a policy starting with "{" is read as JSON)'),
    );
    const twice = '{"path": {"a": {"capabilities": ["deny"]}, "a": {"capabilities": ["read"]}}}';
    await expect(parsePolicy('p', twice)).rejects.toThrow(
      refusal('policy is not valid: a JSON object has the same key twice'),
    );
  });

  it('keeps every block of a path given twice in HCL, so the ACL merges them (deny wins)', async () => {
    const policy = await parsePolicy(
      'p',
      block('secret/*', '  capabilities = ["read"]') +
        block('secret/*', '  capabilities = ["deny"]'),
    );
    expect(policy.rules.map((r) => [...r.capabilities])).toEqual([['read'], ['deny']]);
    expect(new Acl([policy]).allows('secret/x', 'read')).toBe(false);
  });

  it('needs "path" rules and nothing else at the top', async () => {
    const noPath = refusal(
      'policy must have "path" rules, e.g. path "secret/data/*" { capabilities = ["read"] } (HCL) or {"path": {"secret/data/*": {"capabilities": ["read"]}}} (JSON)',
    );
    for (const text of ['', '# only a comment', '{}', '{"path":[]}', '{"path":"a"}', 'path = "a"'])
      await expect(parsePolicy('p', text)).rejects.toThrow(noPath);
    await expect(parsePolicy('p', 'path { capabilities = ["read"] }')).rejects.toThrow(noPath);
    // A parsed document that is not an object (HCL and JSON text always give one).
    for (const document of [null, [], 'path', 7])
      expect(() => policyFromDocument('p', document, '')).toThrow(
        refusal('policy must be an object with "path" rules'),
      );
    await expect(
      parsePolicy('p', `paths = 1\n${block('a', 'capabilities = ["read"]')}`),
    ).rejects.toThrow(refusal('policy has a top-level field other than "path"'));
  });

  it('names a bad rule by its place in "path"', async () => {
    const ok = { capabilities: ['read'] };
    await expect(parsePolicy('p', json({ a: ok, b: [] }))).rejects.toThrow(
      refusal('path rule 2 must be an object with "capabilities"'),
    );
    await expect(parsePolicy('p', json({ a: null }))).rejects.toThrow(
      refusal('path rule 1 must be an object with "capabilities"'),
    );
    await expect(
      parsePolicy('p', block('a', 'capabilities = ["read"]\nnote = "x"')),
    ).rejects.toThrow(
      refusal(
        'path rule 1 has a field other than "capabilities", "policy", "allowed_parameters", "denied_parameters", "required_parameters"',
      ),
    );
    await expect(
      parsePolicy(
        'p',
        block('a', 'capabilities = ["read"]\nmin_wrapping_ttl = 1\ncontrol_group = {}'),
      ),
    ).rejects.toThrow(
      refusal('path rule 1: control_group, min_wrapping_ttl is not supported by custos'),
    );
    await expect(parsePolicy('p', block('a', 'x { }'))).rejects.toThrow(
      refusal(
        'path rule 1 has a field other than "capabilities", "policy", "allowed_parameters", "denied_parameters", "required_parameters"',
      ),
    );
    await expect(parsePolicy('p', json({ a: {} }))).rejects.toThrow(
      refusal('path rule 1 needs a non-empty "capabilities" list (or "policy")'),
    );
    await expect(parsePolicy('p', json({ a: { capabilities: 'read' } }))).rejects.toThrow(
      refusal('path rule 1: "capabilities" must be a list'),
    );
    await expect(parsePolicy('p', block('a', 'capabilities = ["read", "root"]'))).rejects.toThrow(
      refusal(
        'path rule 1: unknown capability (use create, read, update, patch, delete, list, sudo, deny)',
      ),
    );
    await expect(
      parsePolicy(
        'p',
        block('a', 'capabilities = ["read"]') + block('a', 'capabilities = ["Read"]'),
      ),
    ).rejects.toThrow(
      refusal(
        'path rule 1 (block 2): unknown capability (use create, read, update, patch, delete, list, sudo, deny)',
      ),
    );
  });

  it('takes patterns of 1 to 512 characters, not starting with "/", with "*" last and "+" whole', async () => {
    const parse = async (pattern: string) =>
      (await parsePolicy('p', json({ [pattern]: { capabilities: ['read'] } }))).rules[0]?.pattern;
    for (const good of ['a', 'a'.repeat(512), 'secret/*', '*', '+/data/+', 'a/+/b*'])
      expect(await parse(good)).toBe(good);
    await expect(parse('')).rejects.toThrow(
      refusal('path rule 1: path patterns are 1-512 characters'),
    );
    await expect(parse('a'.repeat(513))).rejects.toThrow(
      refusal('path rule 1: path patterns are 1-512 characters'),
    );
    await expect(parse('/secret')).rejects.toThrow(
      refusal('path rule 1: the path pattern must not start with "/"'),
    );
    await expect(parse('a*/b')).rejects.toThrow(
      refusal('path rule 1: "*" is allowed only at the end of the path pattern'),
    );
    await expect(parse('**')).rejects.toThrow(
      refusal('path rule 1: "*" is allowed only at the end of the path pattern'),
    );
    await expect(parse('a/b+')).rejects.toThrow(
      refusal('path rule 1: "+" must be a whole path segment'),
    );
    await expect(parse('a+*')).rejects.toThrow(
      refusal('path rule 1: "+" must be a whole path segment'),
    );
  });
});

describe('the older policy = "…" shorthand', () => {
  it('stands for Vault\'s capability sets, in HCL and in JSON, beside "capabilities"', async () => {
    const caps = async (text: string) => [
      ...((await parsePolicy('p', text)).rules[0]?.capabilities ?? []),
    ];
    expect(await caps(block('a', 'policy = "read"'))).toEqual(['read', 'list']);
    expect(await caps(block('a', 'policy = "write"'))).toEqual([
      'create',
      'read',
      'update',
      'delete',
      'list',
    ]);
    expect(await caps(block('a', 'policy = "sudo"'))).toEqual([
      'create',
      'read',
      'update',
      'delete',
      'list',
      'sudo',
    ]);
    expect(await caps(block('a', 'policy = "deny"'))).toEqual(['deny']);
    expect(await caps(json({ a: { policy: 'read' } }))).toEqual(['read', 'list']);
    expect(await caps(block('a', 'capabilities = ["patch"]\npolicy = "read"'))).toEqual([
      'patch',
      'read',
      'list',
    ]);
    // deny stands alone, whatever else the rule grants
    expect(await caps(block('a', 'capabilities = ["read"]\npolicy = "deny"'))).toEqual(['deny']);
  });

  it('refuses any other word (case-sensitive, as Vault)', async () => {
    const refused = refusal('path rule 1: "policy" must be one of deny, read, write, sudo');
    for (const word of ['Read', 'list', 'root', 'constructor', 'toString', ''])
      await expect(parsePolicy('p', block('a', `policy = "${word}"`))).rejects.toThrow(refused);
    await expect(parsePolicy('p', json({ a: { policy: ['read'] } }))).rejects.toThrow(refused);
  });
});

describe('parameter constraints', () => {
  it('keep allowed, denied and required parameters, names in lower case (as Vault)', async () => {
    const policy = await parsePolicy(
      'p',
      block(
        'secret/data/app',
        `  capabilities = ["create", "update"]
  allowed_parameters = {
    "Data" = []
    "ttl"  = ["1h", "2h"]
  }
  denied_parameters = { "*" = [] }
  required_parameters = ["Data", "ttl"]`,
      ),
    );
    const rule = policy.rules[0];
    expect([...(rule?.allowedParameters ?? [])]).toEqual([
      ['data', []],
      ['ttl', ['1h', '2h']],
    ]);
    expect([...(rule?.deniedParameters ?? [])]).toEqual([['*', []]]);
    expect(rule?.requiredParameters).toEqual(['data', 'ttl']);
  });

  it('refuses malformed constraints', async () => {
    const bad = async (body: string, message: string) =>
      expect(parsePolicy('p', block('a', `capabilities = ["update"]\n${body}`))).rejects.toThrow(
        refusal(`path rule 1: ${message}`),
      );
    await bad(
      'allowed_parameters = ["a"]',
      '"allowed_parameters" must map parameter names to lists',
    );
    await bad(
      'denied_parameters = { a = "x" }',
      'each parameter of "denied_parameters" needs a list of values ([] for any)',
    );
    await bad(
      'allowed_parameters = { a = [], A = [] }',
      '"allowed_parameters" names a parameter twice (names are not case-sensitive)',
    );
    await bad(
      'required_parameters = "a"',
      '"required_parameters" must be a list of parameter names',
    );
    await bad(
      'required_parameters = [1]',
      '"required_parameters" must be a list of parameter names',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { parseHcl } from './hcl.js';
import { DEFAULT_POLICY_DOCUMENT, DEFAULT_POLICY_TEXT } from './policy-store.js';

describe('parseHcl', () => {
  it('gives each of many concurrent parses its own result', async () => {
    const texts = Array.from(
      { length: 50 },
      (_, i) => `path "secret/data/${i}/*" {\n  capabilities = ["read"]\n}\n`,
    );
    const results = await Promise.all(texts.map(parseHcl));
    expect(results).toEqual(
      texts.map((_, i) => ({ path: { [`secret/data/${i}/*`]: [{ capabilities: ['read'] }] } })),
    );
    await expect(Promise.all(['path "a" {', 'path "b" { x = 1 }'].map(parseHcl))).rejects.toThrow(
      /^policy is not valid HCL: /,
    );
  });
});

describe('the built-in default policy', () => {
  it('is HCL whose document is the one the store builds it from (no parser needed)', async () => {
    expect(await parseHcl(DEFAULT_POLICY_TEXT)).toEqual(DEFAULT_POLICY_DOCUMENT);
    expect(DEFAULT_POLICY_TEXT).toContain(
      'path "sys/capabilities-self" {\n  capabilities = ["update"]\n}\n',
    );
  });
});

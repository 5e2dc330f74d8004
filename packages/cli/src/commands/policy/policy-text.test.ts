import { describe, expect, it } from 'vitest';
import { policyDocument } from './policy-text.js';

describe('policyDocument', () => {
  it("passes Vault's JSON policy form on as it is, trimmed", () => {
    const json = '{"path": {"secret/data/*": {"capabilities": ["read"]}}}';
    expect(policyDocument(`\n${json}\n`, 'p.json')).toBe(json);
  });

  it('refuses HCL with an error that says it is not supported yet', () => {
    expect(() => policyDocument('path "secret/*" {\n capabilities = ["read"]\n}', 'p.hcl')).toThrow(
      /p\.hcl looks like HCL, which custos does not support yet/,
    );
  });

  it('refuses broken JSON and an empty file without quoting the text', () => {
    let message = '';
    try {
      policyDocument('{"path": {"secret/data/private-name": ', 'p.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('the policy in p.json is not valid JSON');
    expect(() => policyDocument('  \n', 'stdin')).toThrow(/the policy in stdin is empty/);
  });
});

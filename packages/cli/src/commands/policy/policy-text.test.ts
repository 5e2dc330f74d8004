import { describe, expect, it } from 'vitest';
import { policyDocument } from './policy-text.js';

describe('policyDocument', () => {
  it('passes HCL and JSON on exactly as written (the server reads both)', () => {
    const hcl = 'path "secret/*" {\n  capabilities = ["read"]\n}\n';
    const json = '\n{"path": {"secret/data/*": {"capabilities": ["read"]}}}\n';
    expect(policyDocument(hcl, 'p.hcl')).toBe(hcl);
    expect(policyDocument(json, 'p.json')).toBe(json);
  });

  it('refuses an empty file', () => {
    expect(() => policyDocument('  \n', 'stdin')).toThrow(/the policy in stdin is empty/);
  });
});

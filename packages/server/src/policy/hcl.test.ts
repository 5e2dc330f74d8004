import { describe, expect, it } from 'vitest';
import { parseHcl } from './hcl.js';

describe('parseHcl', () => {
  it('gives each of many concurrent parses its own result', async () => {
    const texts = Array.from(
      { length: 50 },
      (_, i) => `path "secret/data/${i}/*" {\n  capabilities = ["read"]\n}\n`,
    );
    const results = await Promise.all(texts.map(parseHcl));
    results.forEach((result, i) =>
      expect(result).toEqual({ path: { [`secret/data/${i}/*`]: [{ capabilities: ['read'] }] } }),
    );
    await expect(Promise.all(['path "a" {', 'path "b" { x = 1 }'].map(parseHcl))).rejects.toThrow(
      /^policy is not valid HCL: /,
    );
  });
});

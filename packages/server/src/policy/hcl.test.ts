import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MAX_HCL_POLICY_CHARS, parseHcl } from './hcl.js';
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

describe('the HCL parser thread', () => {
  it("parses off the server thread: the parser's globals never reach this one", async () => {
    await parseHcl('path "a" {\n  capabilities = ["read"]\n}\n');
    expect('Go' in globalThis).toBe(false);
    expect('__parse_terraform_config_wasm__' in globalThis).toBe(false);
  });

  it('never keeps a process alive: one that parsed HCL exits when its work is done', async () => {
    // The built module (tests use the packages' dist); a kept-alive parser would hang until killed.
    const built = new URL('../../dist/policy/hcl.js', import.meta.url).href;
    const script = `const { parseHcl } = await import(${JSON.stringify(built)});
await parseHcl('path "a" { capabilities = ["read"] }');
console.log('parsed');`;
    const exit = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--input-type=module', '-e', script],
        { timeout: 60_000 },
        (_error, stdout) => resolve({ code: child.exitCode, stdout }),
      );
    });
    expect(exit).toEqual({ code: 0, stdout: 'parsed\n' });
  }, 90_000);

  it('refuses a text longer than the limit before parsing it, and takes one at the limit', async () => {
    const block = 'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n';
    const atLimit = block.repeat(Math.floor(MAX_HCL_POLICY_CHARS / block.length));
    const padded = atLimit + '#'.repeat(MAX_HCL_POLICY_CHARS - atLimit.length);
    expect(padded.length).toBe(MAX_HCL_POLICY_CHARS);
    expect(Object.keys((await parseHcl(padded)).path as object)).toEqual(['secret/data/app/*']);
    await expect(parseHcl(`${padded}\n`)).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message: `policy is longer than ${MAX_HCL_POLICY_CHARS} characters`,
    });
  }, 60_000);
});

describe('the built-in default policy', () => {
  it('is HCL whose document is the one the store builds it from (no parser needed)', async () => {
    expect(await parseHcl(DEFAULT_POLICY_TEXT)).toEqual(DEFAULT_POLICY_DOCUMENT);
    expect(DEFAULT_POLICY_TEXT).toContain(
      'path "sys/capabilities-self" {\n  capabilities = ["update"]\n}\n',
    );
  });
});

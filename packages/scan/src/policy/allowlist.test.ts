import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hex } from '../../test/generate.js';
import { compileAllowlist } from './allowlist.js';

describe('compileAllowlist', () => {
  const finding = (rule: string, fingerprint: string, file: string) => ({
    rule,
    fingerprint,
    file,
  });

  it('allows nothing when empty, or given nothing', () => {
    for (const matcher of [compileAllowlist(), compileAllowlist({ paths: [], rules: [] })]) {
      expect(matcher.allowsPath('src/app.ts')).toBe(false);
      expect(matcher.allowsFinding(finding('jwt', hex(32), 'src/app.ts'))).toBe(false);
    }
  });

  it('allows no rule id and no fingerprint it does not name, whatever they are', () => {
    const matcher = compileAllowlist({ paths: ['docs/'] });
    for (const odd of ['', ' ', 'Stryker was here', 'Stryker was here!', 'undefined', hex(32)]) {
      expect(matcher.allowsFinding(finding(odd, 'x', 'src/a.ts'))).toBe(false);
      expect(matcher.allowsFinding(finding('jwt', odd, 'src/a.ts'))).toBe(false);
    }
  });

  it('allows paths by gitignore-style patterns relative to the root', () => {
    const matcher = compileAllowlist({ paths: ['docs/**', '*.snap', '!keep.snap'] });
    expect(matcher.allowsPath('docs/guide/setup.md')).toBe(true);
    expect(matcher.allowsPath('src/__snapshots__/a.snap')).toBe(true);
    expect(matcher.allowsPath('keep.snap')).toBe(false);
    expect(matcher.allowsPath('src/docs.ts')).toBe(false);
  });

  it('never allows the empty path or a path outside the root, whatever the patterns', () => {
    const matcher = compileAllowlist({ paths: ['*', '**'] });
    expect(matcher.allowsPath('anything.ts')).toBe(true);
    expect(matcher.allowsPath('')).toBe(false);
    expect(matcher.allowsPath('../outside.ts')).toBe(false);
    expect(matcher.allowsFinding(finding('jwt', hex(32), ''))).toBe(false);
    expect(matcher.allowsFinding(finding('jwt', hex(32), '../outside.ts'))).toBe(false);
    // Outside the root a file is named by its absolute path: matched by no pattern, no throw.
    for (const path of ['/abs/outside.ts', '/']) {
      expect(matcher.allowsPath(path)).toBe(false);
      expect(matcher.allowsFinding(finding('jwt', hex(32), path))).toBe(false);
    }
  });

  it('allows a finding by its rule, its fingerprint or its file, each alone', () => {
    const fingerprint = hex(32);
    const matcher = compileAllowlist({
      paths: ['fixtures/'],
      rules: ['jwt'],
      fingerprints: [fingerprint],
    });
    expect(matcher.allowsFinding(finding('jwt', hex(32), 'src/a.ts'))).toBe(true);
    expect(matcher.allowsFinding(finding('github-token', fingerprint, 'src/a.ts'))).toBe(true);
    expect(matcher.allowsFinding(finding('github-token', hex(32), 'fixtures/a.ts'))).toBe(true);
    expect(matcher.allowsFinding(finding('github-token', hex(32), 'src/a.ts'))).toBe(false);
  });

  it('loads its path matcher only for an allowlist with paths (the pre-commit check starts faster)', async () => {
    // A fresh process: whether \`ignore\` was loaded is the point.
    const built = fileURLToPath(new URL('../../dist/policy/allowlist.js', import.meta.url));
    const loadsIgnore = async (allowlist: string) => {
      const script = `
        import { createRequire } from 'node:module';
        const { compileAllowlist } = await import(${JSON.stringify(built)});
        compileAllowlist(${allowlist});
        const cache = createRequire(import.meta.url).cache;
        console.log(Object.keys(cache).some((file) => file.includes('/node_modules/ignore/')));`;
      const { stdout } = await promisify(execFile)(process.execPath, [
        '--input-type=module',
        '-e',
        script,
      ]);
      return stdout.trim();
    };
    expect(await loadsIgnore('')).toBe('false');
    expect(await loadsIgnore("{ rules: ['jwt'], paths: [] }")).toBe('false');
    expect(await loadsIgnore("{ paths: ['docs/'] }")).toBe('true');
  });
});

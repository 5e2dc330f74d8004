import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos } from '../test/cli.js';

function run(...args: string[]) {
  return custos(args, { env: { CUSTOS_DEBUG: '' } });
}

describe('custos CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints help and version with exit 0', async () => {
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: custos/);
    expect(help.stdout).toMatch(/keyring/);
    const version = await run('--version');
    expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });

  it('loads neither the server, re-encryption, the scanner nor their drivers for --help and --version', async () => {
    const tracer = new URL('../test/fixtures/trace-imports.mjs', import.meta.url).href;
    for (const flag of [
      '--help',
      '--version',
      'kv',
      'audit',
      'scan --help',
      'token',
      'policy',
      'approle',
      'alerts',
      'alerts test --help',
    ]) {
      const trace = join(dir, `imports${flag}.txt`);
      const result = await custos(flag.split(' '), {
        env: { CUSTOS_TRACE_IMPORTS: trace, NODE_OPTIONS: `--import=${tracer}` },
      });
      expect([0, 2], result.stderr).toContain(result.code); // group commands without a subcommand print help, exit 2
      const loaded = await readFile(trace, 'utf8');
      // The trace works (`custos scan` runs from the bundle when it is fresh: cli-bundle.ts).
      expect(loaded).toMatch(/packages\/cli\/(dist\/main|bundle\/scan-bin)\.js/);
      expect(loaded).not.toMatch(
        /packages\/(server|reencrypt|scan)\/|node_modules\/(fastify|kysely|better-sqlite3|pg|ignore)\//,
      );
    }
  });

  it('exits 2 on usage errors', async () => {
    expect((await run('no-such-command')).code).toBe(2);
    expect((await run('keyring', 'create')).code).toBe(2);
    expect((await run('keygen', '--bytes', 'many')).code).toBe(2);
    expect((await run('keygen', '--format', 'rot13')).code).toBe(2);
  });

  it.runIf(requireTool('git'))(
    'warns when a key file it writes could be committed, and not when git ignores it',
    async () => {
      const repo = join(dir, 'repo');
      await mkdir(repo);
      execFileSync('git', ['init', '-q', repo]);
      await writeFile(join(repo, '.gitignore'), 'ignored-*.json\n');
      for (const [command, name] of [
        [['keyring', 'create', '--out'], 'keyring.json'],
        [['keygen', '--jwt', 'ES256', '--out'], 'jwt-keys.json'],
      ] as const) {
        const exposed = join(repo, name);
        const written = await run(...command, exposed);
        expect(written.code).toBe(0);
        expect(written.stderr).toBe(
          `warning: ${exposed} holds keys and is not git-ignored; add ${name} to .gitignore so it is never committed\n`,
        );
        const ignored = await run(...command, join(repo, `ignored-${name}`));
        expect(ignored).toMatchObject({ code: 0, stderr: '' });
        const outside = await run(...command, join(dir, `outside-${name}`));
        expect(outside).toMatchObject({ code: 0, stderr: '' });
      }
    },
  );

  it('creates, rotates and shows a keyring file without printing key material', async () => {
    const file = join(dir, 'keyring.json');
    const created = await run('keyring', 'create', '--out', file);
    expect(created.code).toBe(0);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await run('keyring', 'create', '--out', file)).stderr).toMatch(/exists; pass --force/);
    expect((await run('keyring', 'rotate', '--file', file)).stdout).toMatch(/v2 is now primary/);
    expect(
      (await run('keyring', 'add', '--file', file, '--name', 'search', '-a', 'aes-256-gcm-siv'))
        .code,
    ).toBe(0);
    // Several keys: the randomised ones rotate, the deterministic one only when named.
    const several = await run('keyring', 'rotate', '--file', file);
    expect(several).toMatchObject({ code: 0, stderr: expect.stringMatching(/skipped "search"/) });
    const shown = await run('keyring', 'show', '--file', file, '--json');
    expect(shown.code).toBe(0);
    const keys = JSON.parse(shown.stdout);
    expect(
      keys.map((k: { name: string; primaryVersion: number }) => [k.name, k.primaryVersion]),
    ).toEqual([
      ['default', 3],
      ['blind-index', 1],
      ['search', 1],
    ]);
    expect(shown.stdout).not.toMatch(/"key"/);
  });

  it('reports a damaged keyring with its error code and exit 2', async () => {
    const result = await run('keyring', 'show', '--file', join(dir, 'missing.json'));
    expect(result).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/does not exist \[ERR_INVALID_ARGUMENT\]/),
    });
  });

  it('generates random secrets in the asked encoding', async () => {
    expect((await run('keygen', '--format', 'hex', '--bytes', '16')).stdout).toMatch(
      /^[0-9a-f]{32}\n$/,
    );
    expect((await run('keygen', '-f', 'alphanumeric')).stdout).toMatch(/^[A-Za-z0-9]{43}\n$/);
  });

  it.each([
    // 17 bytes do not fill the last base64 group: padding in base64, none in base64url.
    [['--format', 'base64', '--bytes', '17'], 'base64', 17, /^[A-Za-z0-9+/]{23}=$/],
    [['--format', 'base64', '--bytes', '48'], 'base64', 48, /^[A-Za-z0-9+/]{64}$/],
    [['-f', 'base64url', '-b', '17'], 'base64url', 17, /^[A-Za-z0-9_-]{23}$/],
    [[], 'base64url', 32, /^[A-Za-z0-9_-]{43}$/], // the defaults
  ] as const)('keygen %j prints %s of %i bytes', async (args, encoding, bytes, shape) => {
    const result = await run('keygen', ...args);
    expect(result.code).toBe(0);
    const text = result.stdout.replace(/\n$/, '');
    expect(text).toMatch(shape);
    const decoded = Buffer.from(text, encoding);
    expect(decoded).toHaveLength(bytes);
    // Decodes exactly: re-encoding gives the same text back.
    expect(decoded.toString(encoding)).toBe(text);
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requireTool } from '@custos/test-support/tools';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bin, custos } from '../../../test/cli.js';
import { githubToken, randomBase62 } from '../../../test/github-token.js';

const hasGit = requireTool('git');

/** The SARIF SDK's validator (a dev dependency; its binary exists for Linux, macOS and Windows). */
const sarifValidator = ((): string | undefined => {
  try {
    return createRequire(import.meta.url)('@microsoft/sarif-multitool') as string;
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    return undefined;
  }
})();

/** A fixed author, and the machine's own git settings ignored. */
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Ada',
  GIT_AUTHOR_EMAIL: 'a@b',
  GIT_COMMITTER_NAME: 'Ada',
  GIT_COMMITTER_EMAIL: 'a@b',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

describe('custos scan', () => {
  let dir: string;
  let cacheHome: string; // the scan cache's key: never the user's own
  const run = (args: string[], stdin?: string) =>
    custos(['scan', ...args], {
      cwd: dir,
      env: { XDG_CACHE_HOME: cacheHome },
      ...(stdin !== undefined ? { stdin } : {}),
    });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-scan-cli-'));
    cacheHome = await mkdtemp(join(tmpdir(), 'custos-scan-cli-cache-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(cacheHome, { recursive: true, force: true });
  });

  it('exits 0 on a clean tree, 1 with findings, 2 on usage errors', async () => {
    await writeFile(join(dir, 'README.txt'), 'nothing to see\n');
    expect(await run([])).toMatchObject({ code: 0, stdout: '', stderr: 'No secrets found.\n' });
    await writeFile(join(dir, 'app.env'), `GITHUB_TOKEN=${githubToken()}\n`);
    const found = await run(['.']);
    expect(found.code).toBe(1);
    expect(found.stdout).toBe('app.env:1:14  github-token  high  ghp_…\n');
    expect((await run(['--stdin', '--git'])).code).toBe(2);
    expect((await run(['--format', 'xml'])).code).toBe(2);
    expect((await run(['--since', 'HEAD'])).code).toBe(2);
    expect((await run(['no-such-dir'])).code).toBe(2);
    expect((await run(['--baseline', 'missing.json'])).stderr).toMatch(/ERR_SCAN_CONFIG/);
  });

  it('with --cache, scans only what changed since the last run, and never its own cache', async () => {
    const token = githubToken();
    await writeFile(join(dir, 'app.env'), `GITHUB_TOKEN=${token}\n`);
    await writeFile(join(dir, 'README.txt'), 'nothing to see\n');
    const first = await run(['--cache']);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('scan cache: 0 of 2 files unchanged since the last run');
    const second = await run(['--cache']);
    expect(second.code).toBe(1);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toContain('scan cache: 2 of 2 files unchanged since the last run');
    const cache = await readFile(join(dir, '.custos-scan-cache'), 'utf8');
    expect(cache).not.toContain(token);
    await mkdir(join(dir, 'ci-cache'));
    const elsewhere = await run(['--cache-location', 'ci-cache/scan.json', '--format', 'json']);
    expect(elsewhere.code).toBe(1);
    expect(JSON.parse(elsewhere.stdout).findings).toHaveLength(1);
    expect((await run(['--cache', '--git'])).code).toBe(2);
    expect((await run(['--cache', '--stdin'], '')).code).toBe(2);
  });

  it('never prints a found secret whole, in any format', async () => {
    const token = githubToken();
    const password = `${randomBase62(18)}!x9`;
    await writeFile(join(dir, 'app.env'), `GITHUB_TOKEN=${token}\nDB_PASSWORD=${password}\n`);
    for (const format of ['text', 'json', 'sarif']) {
      const result = await run(['--format', format]);
      expect(result.code).toBe(1);
      for (const output of [result.stdout, result.stderr]) {
        expect(output).not.toContain(token.slice(4, 20));
        expect(output).not.toContain(password.slice(2));
      }
    }
    const piped = await run(['--stdin', '--name', 'x.env', '--format', 'json'], `A=${token}\n`);
    expect(piped.stdout).not.toContain(token.slice(4, 20));
  });

  it('writes the JSON report, which also serves as a baseline', async () => {
    await writeFile(join(dir, 'app.env'), `GITHUB_TOKEN=${githubToken()}\n`);
    const result = await run(['--format', 'json']);
    const report = JSON.parse(result.stdout);
    expect(report).toEqual({
      findings: [
        {
          rule: 'github-token',
          file: 'app.env',
          line: 1,
          column: 14,
          fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/),
          confidence: 'high',
          redacted: 'ghp_…',
        },
      ],
    });
    await writeFile(join(dir, 'baseline.json'), result.stdout);
    expect((await run(['--baseline', 'baseline.json'])).code).toBe(0);
    await writeFile(join(dir, 'more.env'), `NPM=${githubToken()}\n`);
    const next = await run(['--baseline', 'baseline.json', '--format', 'json']);
    expect(JSON.parse(next.stdout).findings.map((f: { file: string }) => f.file)).toEqual([
      'more.env',
    ]);
  });

  it('reads allowlists from .custos-scan.json', async () => {
    await writeFile(join(dir, 'app.env'), `GITHUB_TOKEN=${githubToken()}\n`);
    await writeFile(
      join(dir, '.custos-scan.json'),
      JSON.stringify({ allowlist: { rules: ['github-token'] } }),
    );
    expect((await run([])).code).toBe(0);
    await writeFile(join(dir, '.custos-scan.json'), '{"allowlist": {"rules": "github-token"}}');
    expect(await run([])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/ERR_SCAN_CONFIG/),
    });
  });

  it('honours .gitleaksignore fingerprints by file and line (migration)', async () => {
    await writeFile(join(dir, 'app.env'), `A=1\nGITHUB_TOKEN=${githubToken()}\n`);
    await writeFile(join(dir, '.gitleaksignore'), 'app.env:github-pat:1\n');
    expect((await run([])).code).toBe(1);
    await writeFile(join(dir, '.gitleaksignore'), 'app.env:github-pat:2\n');
    expect((await run([])).code).toBe(0);
  });

  it.runIf(sarifValidator !== undefined)(
    "passes the 2.1.0 JSON schema and the SARIF SDK's validator",
    async () => {
      await writeFile(join(dir, 'app.env'), `GITHUB_TOKEN=${githubToken()}\n`);
      await writeFile(join(dir, 'b c.env'), `\nGITHUB_TOKEN=${githubToken()}\n`);
      await mkdir(join(dir, 'test', 'fixtures'), { recursive: true });
      await writeFile(join(dir, 'test', 'fixtures', 'k.env'), `A=${githubToken()}\n`);
      // Files not scanned are the invocation's notifications; one outside the root a file: URI.
      await writeFile(join(dir, 'image.png'), Buffer.from([0x89, 0x50, 0, 0]));
      await writeFile(join(dir, 'huge #1.env'), 'x'.repeat(2048));
      const outside = await mkdtemp(join(tmpdir(), 'custos-scan-outside-'));
      await writeFile(join(outside, 'far.env'), `GITHUB_TOKEN=${githubToken()}\n`);
      const sarif = await run(['--format', 'sarif', '--max-file-size', '1024', '.', outside]);
      await rm(outside, { recursive: true, force: true });
      expect(
        JSON.parse(sarif.stdout).runs[0].invocations[0].toolExecutionNotifications,
      ).toHaveLength(2);
      expect(JSON.parse(sarif.stdout).runs[0].results.length).toBe(4);
      // The 2.1.0 JSON schema, as the SARIF SDK ships it.
      const schema = JSON.parse(
        await readFile(join(dirname(sarifValidator as string), 'sarif-2.1.0.json'), 'utf8'),
      );
      const ajv = new Ajv2020({ allErrors: true, strict: false });
      formats.default(ajv);
      const validate = ajv.compile(schema);
      validate(JSON.parse(sarif.stdout));
      expect(validate.errors ?? []).toEqual([]);
      // The SDK's validator: SARIF's rules beyond the schema.
      await writeFile(join(dir, 'scan.sarif'), sarif.stdout);
      const verdict = join(dir, 'validation.sarif');
      const validator = sarifValidator as string;
      execFileSync(
        validator,
        ['validate', join(dir, 'scan.sarif'), '--output', verdict, '--quiet'],
        {
          stdio: 'ignore',
          env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1' },
        },
      );
      const problems = (
        JSON.parse(await readFile(verdict, 'utf8')) as {
          runs: { results?: { ruleId: string; level?: string; message: { text: string } }[] }[];
        }
      ).runs.flatMap((r) => r.results ?? []);
      // SARIF2005 asks for the tool's informationUri: custos has no published home page yet.
      const reported = problems.filter((p) => p.ruleId !== 'SARIF2005');
      expect(reported.map((p) => `${p.ruleId} ${p.level ?? 'warning'}: ${p.message.text}`)).toEqual(
        [],
      );
    },
  );

  it('writes SARIF 2.1.0 with rules, locations and fingerprints', async () => {
    await mkdir(join(dir, 'config'));
    await writeFile(join(dir, 'config', 'app.env'), `\n  GITHUB_TOKEN=${githubToken()}\n`);
    const sarif = JSON.parse((await run(['--format', 'sarif'])).stdout);
    expect(sarif.version).toBe('2.1.0');
    const [runEntry] = sarif.runs;
    const ids = runEntry.tool.driver.rules.map((r: { id: string }) => r.id);
    expect(ids).toContain('github-token');
    expect(new Set(ids).size).toBe(ids.length);
    const [result] = runEntry.results;
    expect(result).toMatchObject({
      ruleId: 'github-token',
      ruleIndex: ids.indexOf('github-token'),
      level: 'error',
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: 'config/app.env' },
            region: { startLine: 2, startColumn: 16, endLine: 2, endColumn: 56 },
          },
        },
      ],
      partialFingerprints: { 'custosSecret/v1': expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
  });

  it.runIf(hasGit)('scans history, staged changes, and installs the hook', async () => {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: dir, env: { ...process.env, ...GIT_ENV } })
        .toString()
        .trim();
    git('init', '-q', '-b', 'main');
    await writeFile(join(dir, 'app.env'), `GITHUB_TOKEN=${githubToken()}\n`);
    git('add', '-A');
    expect((await run(['--staged'])).code).toBe(1);
    git('commit', '-qm', 'add');
    const commit = git('rev-parse', 'HEAD');
    git('rm', '-q', 'app.env');
    git('commit', '-qm', 'remove');
    expect((await run([])).code).toBe(0); // the work tree is clean…
    const history = await run(['--git', '--format', 'json']);
    expect(history.code).toBe(1); // …the history is not
    expect(JSON.parse(history.stdout).findings).toMatchObject([
      { file: 'app.env', commit, author: 'Ada' },
    ]);
    expect((await run(['--git', '--since', commit])).code).toBe(0);
    expect((await run(['--staged'])).code).toBe(0);
    const hook = await custos(['scan', 'install-hook'], { cwd: dir });
    expect(hook.code).toBe(0);
    expect(await readFile(join(dir, '.git', 'hooks', 'pre-commit'), 'utf8')).toMatch(
      /custos scan --staged/,
    );
    expect((await custos(['scan', 'install-hook'], { cwd: dir })).code).toBe(0); // same hook: rewritten
  });

  it.runIf(hasGit)(
    "the installed hook refuses a commit that adds a secret, starting the project's custos without npx",
    async () => {
      const env = { ...GIT_ENV, XDG_CACHE_HOME: cacheHome };
      // An npx that only notes it was asked: the hook must not need it when the project has
      // custos installed.
      const fakeBin = join(dir, '.fake-bin');
      const npxLog = join(dir, '.npx-calls');
      await mkdir(fakeBin);
      await writeFile(join(fakeBin, 'npx'), `#!/bin/sh\necho "$@" >> '${npxLog}'\nexit 97\n`);
      await chmod(join(fakeBin, 'npx'), 0o755);
      const git = (...args: string[]) =>
        spawnSync('git', args, {
          cwd: dir,
          env: { ...process.env, ...env, PATH: `${fakeBin}:${process.env.PATH}` },
          encoding: 'utf8',
        });
      git('init', '-q', '-b', 'main');
      await mkdir(join(dir, 'node_modules', '.bin'), { recursive: true });
      await symlink(bin, join(dir, 'node_modules', '.bin', 'custos'));
      expect((await custos(['scan', 'install-hook'], { cwd: dir })).code).toBe(0);
      await writeFile(join(dir, 'README.txt'), 'nothing to see\n');
      git('add', 'README.txt');
      expect(git('commit', '-qm', 'clean')).toMatchObject({ status: 0 });
      const token = githubToken();
      await writeFile(join(dir, 'app.env'), `GITHUB_TOKEN=${token}\n`);
      git('add', 'app.env');
      const refused = git('commit', '-qm', 'secret');
      expect(refused.status).toBe(1);
      // Git sends a hook's standard output to its standard error.
      expect(refused.stderr).toContain('app.env:1:14  github-token  high  ghp_…\n');
      expect(refused.stdout + refused.stderr).not.toContain(token);
      expect(git('rev-list', '--count', 'HEAD').stdout.trim()).toBe('1');
      await expect(readFile(npxLog, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
      // Without the project's own custos, npx is asked to find one (this one fails the hook).
      await rm(join(dir, 'node_modules'), { recursive: true });
      expect(git('commit', '-qm', 'secret').status).toBe(1);
      expect(await readFile(npxLog, 'utf8')).toBe('--no-install custos scan --staged\n');
      // A hook an earlier version wrote is ours: replaced without --force.
      const hookPath = join(dir, '.git', 'hooks', 'pre-commit');
      await writeFile(
        hookPath,
        '#!/bin/sh\n# Installed by `custos scan install-hook`: refuses a commit that adds a secret.\n# Skip once with `git commit --no-verify`; silence a line with a custos-ignore comment.\nexec npx --no-install custos scan --staged\n',
      );
      expect((await custos(['scan', 'install-hook'], { cwd: dir })).code).toBe(0);
      expect(await readFile(hookPath, 'utf8')).toContain('node_modules/.bin/custos scan --staged');
    },
  );
});

/**
 * What a directory scan does not scan is said, and what it cannot read fails it: a scan that
 * exits 0 must mean that every file listed was read and judged. Also the places a scan's
 * output names: relative to the directory scanned, escaped for terminals, encoded for SARIF.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bin, custos } from '../../../test/cli.js';
import { githubToken } from '../../../test/github-token.js';

describe('custos scan: skipped files, places and settings', () => {
  let dir: string;
  const run = (args: string[], cwd = dir) => custos(['scan', ...args], { cwd });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-scan-skips-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails (exit 2) on a file it cannot read, after reporting what it found elsewhere', async (context) => {
    if (process.getuid?.() !== 0) {
      // Only root can run the scan as another user; the suite runs as root in CI.
      expect(process.env.CI, 'CI runs the suite as root').not.toBe('true');
      context.skip();
    }
    const token = githubToken();
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'found.env'), `GITHUB_TOKEN=${token}\n`, { mode: 0o644 });
    await writeFile(join(dir, 'private.env'), `GITHUB_TOKEN=${githubToken()}\n`, { mode: 0o600 });
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    const asNobody = (args: string[]) =>
      spawnSync(process.execPath, [bin, 'scan', ...args], {
        cwd: dir,
        uid: nobody,
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
      });
    for (const args of [['--no-gitignore'], ['private.env']]) {
      const text = asNobody(args);
      expect(text.status).toBe(2);
      expect(text.stderr).toContain('custos: cannot read private.env (EACCES): not scanned');
    }
    const text = asNobody([]);
    expect(text.stdout).toBe('found.env:1:14  github-token  high  ghp_…\n');
    const json = asNobody(['--format', 'json']);
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout).findings).toHaveLength(1);
    const sarif = asNobody(['--format', 'sarif']);
    expect(sarif.status).toBe(2);
    const [invocation] = JSON.parse(sarif.stdout).runs[0].invocations;
    expect(invocation).toEqual({
      executionSuccessful: false,
      toolExecutionNotifications: [
        {
          level: 'error',
          descriptor: { id: 'skipped-unreadable' },
          message: { text: 'could not be read (EACCES)' },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: 'private.env', uriBaseId: '%SRCROOT%' },
              },
            },
          ],
        },
      ],
    });
    for (const output of [text, json, sarif])
      expect(output.stdout + output.stderr).not.toContain(token);
  });

  it('says which files it skipped as too large, and how many as binary or minified', async () => {
    await writeFile(join(dir, 'big.env'), `GITHUB_TOKEN=${githubToken()}\n`);
    await writeFile(join(dir, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1]));
    await writeFile(join(dir, 'app.min.js'), 'var a=1;');
    const result = await run(['--max-file-size', '20']);
    expect(result).toEqual({
      code: 0,
      stdout: '',
      stderr: [
        'not scanned, larger than the size limit (--max-file-size): big.env',
        'not scanned: 1 file binary',
        'not scanned: 1 file minified or generated (--scan-minified scans them)',
        'No secrets found.',
        '',
      ].join('\n'),
    });
    const sarif = JSON.parse((await run(['--max-file-size', '20', '-f', 'sarif'])).stdout);
    const [invocation] = sarif.runs[0].invocations;
    expect(invocation.executionSuccessful).toBe(true);
    expect(
      invocation.toolExecutionNotifications.map(
        (n: { level: string; descriptor: { id: string } }) => `${n.level} ${n.descriptor.id}`,
      ),
    ).toEqual(['warning skipped-minified', 'warning skipped-huge', 'warning skipped-binary']);
  });

  it('scans UTF-16 text (with a byte order mark) and one-line JSON', async () => {
    const token = githubToken();
    const text = `# settings\r\nGITHUB_TOKEN=${token}\r\n`;
    await writeFile(join(dir, 'le.env'), Buffer.from(`\ufeff${text}`, 'utf16le'));
    await writeFile(join(dir, 'be.env'), Buffer.from(`\ufeff${text}`, 'utf16le').swap16());
    const padding = 'x'.repeat(6000);
    await writeFile(join(dir, 'compact.json'), `{"notes":"${padding}","token":"${token}"}`);
    const result = await run(['-f', 'json']);
    expect(result.code).toBe(1);
    expect(
      JSON.parse(result.stdout).findings.map(
        (f: { file: string; line: number; column: number }) => `${f.file}:${f.line}:${f.column}`,
      ),
    ).toEqual(['be.env:2:14', 'compact.json:1:6022', 'le.env:2:14']);
  });

  it('refuses a directory given as standard input', async () => {
    const directory = openSync(dir, 'r');
    const result = spawnSync(process.execPath, [bin, 'scan', '--stdin'], {
      cwd: dir,
      stdio: [directory, 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    closeSync(directory);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('standard input is a directory, not a text to scan');
  });

  it('reports a scanned directory’s files relative to it and reads its .custosignore', async () => {
    const repo = join(dir, 'repo');
    await mkdir(join(repo, 'vendor'), { recursive: true });
    await writeFile(join(repo, 'app.env'), `GITHUB_TOKEN=${githubToken()}\n`);
    await writeFile(join(repo, 'vendor', 'lib.env'), `GITHUB_TOKEN=${githubToken()}\n`);
    await writeFile(join(repo, '.custosignore'), 'vendor/\n');
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere);
    const files = async (args: string[]) =>
      JSON.parse((await run(['-f', 'json', ...args], elsewhere)).stdout).findings.map(
        (f: { file: string }) => f.file,
      );
    // Its settings and baseline (named relative to it) and its .gitleaksignore apply too.
    const accepted = githubToken();
    await writeFile(join(repo, 'allowed.env'), `GITHUB_TOKEN=${githubToken()}\n`);
    await writeFile(join(repo, 'accepted.env'), `GITHUB_TOKEN=${accepted}\n`);
    await writeFile(join(repo, 'old.env'), `\nGITHUB_TOKEN=${githubToken()}\n`);
    await mkdir(join(repo, 'ci'));
    const baseline = await run(['-f', 'json', 'accepted.env'], repo);
    await writeFile(join(repo, 'ci', 'baseline.json'), baseline.stdout);
    await writeFile(
      join(repo, '.custos-scan.json'),
      JSON.stringify({ allowlist: { paths: ['allowed.env'] }, baseline: 'ci/baseline.json' }),
    );
    await writeFile(join(repo, '.gitleaksignore'), 'old.env:github-token:2\n');
    expect(await files([repo])).toEqual(['app.env']);
    expect(await files(['../repo'])).toEqual(['app.env']);
    // Several places: relative to the current directory; outside it, absolute (never `../`).
    await writeFile(join(elsewhere, 'local.env'), `GITHUB_TOKEN=${githubToken()}\n`);
    expect(await files(['local.env', repo])).toEqual([
      join(repo, 'accepted.env'),
      join(repo, 'allowed.env'),
      join(repo, 'app.env'),
      join(repo, 'old.env'),
      join(repo, 'vendor', 'lib.env'),
      'local.env',
    ]);
    const sarif = JSON.parse(
      (await run(['-f', 'sarif', 'local.env', join(repo, 'app.env')], elsewhere)).stdout,
    );
    expect(
      sarif.runs[0].results.map(
        (r: { locations: [{ physicalLocation: { artifactLocation: unknown } }] }) =>
          r.locations[0].physicalLocation.artifactLocation,
      ),
    ).toEqual([
      { uri: `file://${join(repo, 'app.env')}` },
      { uri: 'local.env', uriBaseId: '%SRCROOT%' },
    ]);
  });

  it('escapes what a terminal would act on in file names, and encodes SARIF URIs', async () => {
    const names = ['a\u001b[2K\rNo secrets found.\u001b[8m.env', 'b\u202egnp.env', 'c#d?e%f.env'];
    for (const name of names) await writeFile(join(dir, name), `GITHUB_TOKEN=${githubToken()}\n`);
    const text = await run([]);
    expect(text.stdout.split('\n')).toEqual([
      'a\\x1b[2K\\x0dNo secrets found.\\x1b[8m.env:1:14  github-token  high  ghp_…',
      'b\\u202egnp.env:1:14  github-token  high  ghp_…',
      'c#d?e%f.env:1:14  github-token  high  ghp_…',
      '',
    ]);
    const sarif = JSON.parse((await run(['-f', 'sarif'])).stdout);
    expect(
      sarif.runs[0].results.map(
        (r: { locations: [{ physicalLocation: { artifactLocation: { uri: string } } }] }) =>
          r.locations[0].physicalLocation.artifactLocation.uri,
      ),
    ).toEqual([
      'a%1B%5B2K%0DNo%20secrets%20found.%1B%5B8m.env',
      'b%E2%80%AEgnp.env',
      'c%23d%3Fe%25f.env',
    ]);
  });

  it('refuses unknown settings and names the baseline file it cannot parse', async () => {
    await writeFile(join(dir, '.custos-scan.json'), '{"allowList":{"paths":["x/**"]}}');
    const misspelt = await run([]);
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toContain(
      `${join(dir, '.custos-scan.json')}: unknown setting "allowList" (known: allowlist, baseline)`,
    );
    await writeFile(join(dir, '.custos-scan.json'), '{"allowlist":{"path":["x/**"]}}');
    expect((await run([])).stderr).toContain(
      'allowlist: unknown setting "path" (known: paths, rules, fingerprints)',
    );
    await writeFile(join(dir, '.custos-scan.json'), '{"baseline":"base.json"}');
    await writeFile(join(dir, 'base.json'), '{not json');
    const baseline = await run([]);
    expect(baseline.code).toBe(2);
    expect(baseline.stderr).toContain('base.json: the baseline is not valid JSON');
  });

  it('prints its findings before failing on a cache it cannot write', async () => {
    await writeFile(join(dir, 'app.env'), `GITHUB_TOKEN=${githubToken()}\n`);
    await writeFile(join(dir, 'not-a-dir'), 'x');
    const result = await run(['--cache-location', 'not-a-dir/cache.json']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('app.env:1:14  github-token  high  ghp_…\n');
    expect(result.stderr).toMatch(/cannot write the scan cache not-a-dir\/cache\.json/);
  });
});

import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requireTool } from '@custos/test-support/tools';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checksummedToken, randomString } from '../../test/generate.js';
import { gitIn } from '../../test/git-repo.js';
import { fingerprintSecret } from '../engine/fingerprint.js';
import { scanPaths } from '../files/scan-paths.js';
import { isGitleaksIgnored, parseGitleaksIgnore } from '../policy/gitleaks-ignore.js';
import { scanGitHistory } from './scan-history.js';

const hasGit = requireTool('git');

/** A PKCS#12-like binary: a DER sequence header, random bytes, a NUL early on. */
const keyStore = () => Buffer.concat([Buffer.from([0x30, 0x82, 0x0a, 0x00]), randomBytes(60)]);

describe.runIf(hasGit)('a history scan, by every path a blob had', () => {
  let repo: string;
  const git = (...args: string[]) => gitIn(repo, args);
  const put = async (path: string, content: string | Buffer) => {
    await mkdir(dirname(join(repo, path)), { recursive: true });
    await writeFile(join(repo, path), content);
  };
  const copy = async (from: string, to: string) => {
    await mkdir(dirname(join(repo, to)), { recursive: true });
    await copyFile(join(repo, from), join(repo, to));
  };
  const commit = (message: string) => {
    git('add', '-A');
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  const places = (findings: readonly { file: string; commit?: string }[]) =>
    findings.map((f) => [f.file, f.commit]);

  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'custos-scan-places-'));
    git('init', '-q', '-b', 'main');
  });
  afterEach(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('scans UTF-16 text (with a byte order mark) as text, under every path it had', async () => {
    const token = checksummedToken('ghp_');
    const little = Buffer.from(`\ufeffREM settings\r\nTOKEN=${token}\r\n`, 'utf16le');
    await put('win.env', little);
    await put('win-be.env', Buffer.from(little).swap16());
    const first = commit('windows files');
    const findings = await scanGitHistory({ repository: repo, workers: 0 });
    expect(findings.findings.map((f) => [f.file, f.line, f.commit, f.fingerprint])).toEqual([
      ['win-be.env', 2, first, fingerprintSecret(token)],
    ]);
    // Both blobs hold the one secret: reported once, at the first blob's path (history order).
    expect(findings.blobsScanned).toBe(2);
  });

  it('tells which blobs it did not scan, and why, under their first path', async () => {
    await put('app.min.js', 'var a=1;\n');
    await put('big.env', `TOKEN=${checksummedToken('ghp_')}\n${'x'.repeat(200)}\n`);
    await put('image.png', Buffer.from([0x89, 0x50, 0, 0, 1]));
    commit('unscanned');
    for (const workers of [0, 1]) {
      const skipped: unknown[] = [];
      const { findings } = await scanGitHistory({
        repository: repo,
        workers,
        maxFileBytes: 100,
        onSkipped: (file) => skipped.push(file),
      });
      expect(findings).toEqual([]);
      expect(skipped).toEqual([
        { file: 'app.min.js', reason: 'minified' },
        { file: 'big.env', reason: 'huge' },
        { file: 'image.png', reason: 'binary' },
      ]);
    }
  });

  it('skips a blob only when every path it had is allowlisted: a copy or a move out of one is reported', async () => {
    const allowlist = { paths: ['docs/examples/**'] };
    const copied = checksummedToken('ghp_');
    const moved = checksummedToken('ghp_');
    await put('docs/examples/sample.env', `A=1\nGITHUB_TOKEN=${copied}\n`);
    await put('docs/examples/moved.env', `GITHUB_TOKEN=${moved}\n`);
    await put('docs/examples/only.env', `GITHUB_TOKEN=${checksummedToken('ghp_')}\n`);
    commit('examples');
    await copy('docs/examples/sample.env', 'config/prod.env');
    await mkdir(join(repo, 'config'), { recursive: true });
    git('mv', 'docs/examples/moved.env', 'config/moved.env');
    const second = commit('copy and move');

    const report = await scanGitHistory({ repository: repo, allowlist });
    expect(places(report.findings)).toEqual([
      ['config/moved.env', second],
      ['config/prod.env', second],
    ]);
    expect(report.findings.map((f) => [f.line, f.fingerprint])).toEqual([
      [1, fingerprintSecret(moved)],
      [2, fingerprintSecret(copied)],
    ]);
    expect(report.blobsScanned).toBe(2); // only.env's blob never left the allowlisted directory
    // What the directory scan of the last commit reports, history reports too.
    const tree = await scanPaths(['.'], { root: repo, allowlist });
    expect(tree.findings.map((f) => [f.file, f.fingerprint])).toEqual(
      report.findings.map((f) => [f.file, f.fingerprint]),
    );
  });

  it('scans a blob under a path that is not a test fixture when it had one, at the commit that put it there', async () => {
    const token = checksummedToken('ghp_');
    await put('test/fixtures/keys.env', `GITHUB_TOKEN=${token}\n`);
    await put('spec/only-here.env', `GITHUB_TOKEN=${checksummedToken('ghp_')}\n`);
    const first = commit('fixtures');
    await copy('test/fixtures/keys.env', 'config/keys.env');
    const second = commit('the fixture becomes the configuration');

    const report = await scanGitHistory({ repository: repo });
    expect(report.findings.map((f) => [f.file, f.commit, f.confidence])).toEqual([
      ['spec/only-here.env', first, 'medium'], // a fixture alone keeps its lower confidence
      ['config/keys.env', second, 'high'],
    ]);
    const sure = await scanGitHistory({ repository: repo, minConfidence: 'high' });
    expect(places(sure.findings)).toEqual([['config/keys.env', second]]);
  });

  it('scans a blob once per syntax class of its paths (code or not, minified by name or not)', async () => {
    // An unquoted value is code in a .ts file, a secret in a configuration file; a .min.js
    // file is skipped as generated.
    const password = randomString(24);
    const token = checksummedToken('ghp_');
    await put('src/settings.ts', `password = ${password}\n`);
    await put('dist/app.min.js', `GITHUB_TOKEN=${token}\n`);
    await put('src/other.ts', `password = ${randomString(24)}\n`);
    commit('code');
    await copy('src/settings.ts', 'deploy/settings.conf');
    await copy('dist/app.min.js', 'deploy/app.env');
    const second = commit('copies');

    const report = await scanGitHistory({ repository: repo });
    expect(report.findings.map((f) => [f.file, f.commit, f.rule, f.fingerprint])).toEqual([
      ['deploy/app.env', second, 'github-token', fingerprintSecret(token)],
      ['deploy/settings.conf', second, 'password-assignment', fingerprintSecret(password)],
    ]);
    expect(report.blobsScanned).toBe(3); // each blob read once, however many classes it has
  });

  it('applies ignore to each place before reporting each secret once: an ignored place hides no other', async () => {
    const edited = checksummedToken('ghp_');
    const copied = checksummedToken('ghp_');
    await put('a.env', `A=1\nGITHUB_TOKEN=${edited}\n`);
    await put('x.env', `GITHUB_TOKEN=${copied}\n`);
    await put('z.env', `GITHUB_TOKEN=${checksummedToken('ghp_')}\n`);
    const first = commit('one');
    await put('b.env', `GITHUB_TOKEN=${edited}\n`); // the same secret, another blob
    await copy('x.env', 'y.env'); // the same blob
    await copy('z.env', 'test/z.env'); // the same blob, in a test fixture
    const second = commit('two');

    const all = await scanGitHistory({ repository: repo });
    expect(places(all.findings)).toEqual([
      ['a.env', first],
      ['x.env', first],
      ['z.env', first],
    ]);
    for (const lines of [
      'a.env:github-pat:2\nx.env:github-pat:1\nz.env:github-pat:1\n',
      `${first}:a.env:github-pat:2\n${first}:x.env:github-pat:1\n${first}:z.env:github-pat:1\n`,
    ]) {
      const entries = parseGitleaksIgnore(lines);
      const report = await scanGitHistory({
        repository: repo,
        ignore: (finding) => isGitleaksIgnored(entries, finding),
      });
      expect(report.findings.map((f) => [f.file, f.commit, f.confidence])).toEqual([
        ['b.env', second, 'high'],
        ['test/z.env', second, 'medium'], // judged as the fixture it is there
        ['y.env', second, 'high'],
      ]);
      expect(report.findings.map((f) => f.fingerprint)).toContain(fingerprintSecret(edited));
      expect(report.findings.map((f) => f.fingerprint)).toContain(fingerprintSecret(copied));
    }
  });

  it('reports PKCS#12 key stores (.p12, .pfx) as the directory scan does, under any path they had', async () => {
    const client = keyStore();
    const server = keyStore();
    await put('certs/client.p12', client);
    await put('keystore.bin', server); // binary under this name: nothing to scan
    const first = commit('key stores');
    git('mv', 'keystore.bin', 'certs/server.PFX');
    const second = commit('named for what it is');

    const report = await scanGitHistory({ repository: repo });
    expect(report.findings.map((f) => [f.rule, f.file, f.commit, f.line, f.redacted])).toEqual([
      ['pkcs12-file', 'certs/client.p12', first, 1, '…'],
      ['pkcs12-file', 'certs/server.PFX', second, 1, '…'],
    ]);
    expect(report.findings.map((f) => f.fingerprint)).toEqual([
      fingerprintSecret(client.toString('base64')),
      fingerprintSecret(server.toString('base64')),
    ]);
    const tree = await scanPaths(['.'], { root: repo });
    expect(tree.findings).toEqual(report.findings.map(({ commit, author, date, ...f }) => f));
    // A copy in a test fixture is reported alike, as the directory scan does for key stores.
    await copy('certs/client.p12', 'test/fixtures/client.p12');
    const third = commit('a fixture');
    const elsewhere = await scanGitHistory({
      repository: repo,
      ignore: (finding) => finding.file === 'certs/client.p12',
    });
    expect(elsewhere.findings.map((f) => [f.file, f.commit, f.confidence])).toEqual([
      ['certs/server.PFX', second, 'medium'],
      ['test/fixtures/client.p12', third, 'medium'],
    ]);
    const allowlisted = await scanGitHistory({
      repository: repo,
      allowlist: { rules: ['pkcs12-file'] },
    });
    expect(allowlisted.findings).toEqual([]);
  });
  it('knows every path a merge resolution puts a blob at (an evil merge), with the merge commit', async () => {
    const allowlist = { paths: ['docs/**'] };
    const example = checksummedToken('ghp_');
    const fixture = checksummedToken('ghp_');
    await put('README.md', 'base\n');
    commit('base');
    git('checkout', '-q', '-b', 'side');
    await put('docs/example.env', `GITHUB_TOKEN=${example}\n`);
    await put('test/fixtures/keys.env', `GITHUB_TOKEN=${fixture}\n`);
    const side = commit('examples on a side branch');
    git('checkout', '-q', 'main');
    await put('main.txt', 'main moves on\n');
    commit('main');
    // The resolution copies both files where neither branch had them.
    git('merge', '-q', '--no-ff', '--no-commit', 'side');
    await copy('docs/example.env', 'prod.env');
    await copy('test/fixtures/keys.env', 'config/keys.env');
    const merge = commit('merge side');
    expect(git('log', '-1', '--format=', '--raw', merge)).toBe(''); // `log --raw` shows nothing

    const report = await scanGitHistory({ repository: repo, allowlist });
    expect(report.findings.map((f) => [f.file, f.commit, f.confidence])).toEqual([
      ['config/keys.env', merge, 'high'], // not the fixture's lowered confidence
      ['prod.env', merge, 'high'],
    ]);
    // What the directory scan of the merge reports, history reports too (each secret once).
    const tree = await scanPaths(['.'], { root: repo, allowlist });
    expect(tree.findings.map((f) => [f.file, f.confidence])).toEqual([
      ['config/keys.env', 'high'],
      ['prod.env', 'high'],
      ['test/fixtures/keys.env', 'medium'],
    ]);
    expect(report.findings.map((f) => f.fingerprint)).toEqual(
      tree.findings.slice(0, 2).map((f) => f.fingerprint),
    );
    // The merge is new since the side branch: its paths are read though the blobs are not new.
    const since = await scanGitHistory({ repository: repo, allowlist, since: side });
    expect(places(since.findings)).toEqual([
      ['config/keys.env', merge],
      ['prod.env', merge],
    ]);
  });

  it.runIf(process.platform === 'linux')(
    'names paths that are not UTF-8 as directory scans do (caf\\xe9.env), in commits and tagged trees',
    async () => {
      const secrets = [checksummedToken('ghp_'), checksummedToken('ghp_')];
      const latin1 = (path: string) => Buffer.from(join(repo, path), 'latin1');
      await writeFile(latin1('caf\xe9.env'), `GITHUB_TOKEN=${secrets[0]}\n`);
      const first = commit('latin-1 name');
      // A tree only a tag holds: its blob is found by `git rev-list --objects` alone.
      git('checkout', '-q', '-b', 'gone');
      await writeFile(latin1('d\xe9p\xf4t.env'), `GITHUB_TOKEN=${secrets[1]}\n`);
      commit('another');
      git('tag', 'tree-only', 'HEAD^{tree}');
      git('checkout', '-q', 'main');
      git('branch', '-q', '-D', 'gone');

      const allowlist = { paths: ['caf?xe9.env'] }; // `?` for the backslash of `\\xe9`
      const tree = await scanPaths(['.'], { root: repo, workers: 0 });
      expect(tree.findings.map((f) => f.file)).toEqual(['caf\\xe9.env']);
      const report = await scanGitHistory({ repository: repo, workers: 0 });
      expect(report.findings.map((f) => [f.file, f.commit, f.fingerprint])).toEqual([
        ['caf\\xe9.env', first, fingerprintSecret(secrets[0] as string)],
        ['d\\xe9p\\xf4t.env', undefined, fingerprintSecret(secrets[1] as string)],
      ]);
      // A path allowlisted by its readable name is allowlisted in both modes.
      expect((await scanPaths(['.'], { root: repo, allowlist })).findings).toEqual([]);
      const allowed = await scanGitHistory({ repository: repo, allowlist, workers: 0 });
      expect(allowed.findings.map((f) => f.file)).toEqual(['d\\xe9p\\xf4t.env']);
    },
  );
});

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { requireTool } from '@custos/test-support/tools';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runScript, startDevServer } from '../test/cli.js';
import { gitIn } from '../test/git.js';
import { githubToken } from '../test/github-token.js';
import { BUNDLE_SOURCES, bundleSourceFile, freshBundle, isBundleFresh } from './cli-bundle.js';
import { registerScanCommand } from './commands/scan/register.js';
import type { Lazy } from './lazy.js';
import { STAGED_SCAN_OPTIONS } from './scan-main.js';

const hasGit = requireTool('git');
const packageRoot = dirname(dirname(fileURLToPath(import.meta.url)));

/** Runs `node script args…` in `cwd` with only PATH and `env` set. */
const node = (
  script: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  stdin?: string,
) => runScript(script, args, { cwd, env, ...(stdin === undefined ? {} : { stdin }) });

describe('isBundleFresh', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-bundle-fresh-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const statusOf = async (file: string) => {
    const { dev, ino, size, mtimeMs, ctimeMs } = await stat(file);
    return { dev, ino, size, mtimeMs, ctimeMs };
  };

  /**
   * Packages `a` and `b` with build infos holding `contents`, and a bundle of two files whose
   * manifest records them as scripts/bundle.mjs does (hash and status of each build, size of
   * each file), or as `manifest` says.
   */
  const layout = async (name: string, contents: Record<string, string>, manifest?: string) => {
    const root = join(dir, name);
    const bundle = join(root, 'bundle');
    await mkdir(bundle, { recursive: true });
    await writeFile(join(bundle, 'scan-bin.js'), 'entry');
    await writeFile(join(bundle, 'chunk-1.js'), 'chunk');
    const builds: Record<string, unknown> = {};
    for (const [pkg, text] of Object.entries(contents)) {
      const file = join(root, pkg, '.tsbuildinfo');
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, text);
      builds[pkg] = { sha256: sha256(text), stat: await statusOf(file) };
    }
    const outputs = { 'scan-bin.js': 5, 'chunk-1.js': 5 };
    await writeFile(join(bundle, 'manifest.json'), manifest ?? JSON.stringify({ builds, outputs }));
    return { bundle, buildInfoOf: (pkg: string) => join(root, pkg, '.tsbuildinfo') };
  };
  const both = ['a', 'b'];

  it('holds a bundle fresh while each build it records is where Node finds it, untouched', async () => {
    const { bundle, buildInfoOf } = await layout('untouched', { a: 'build a', b: 'build b' });
    expect(isBundleFresh(bundle, both, buildInfoOf)).toBe(true);
    // The packages are looked for as Node finds them now: another copy of b is another build
    // (npm nesting a newer version under the CLI, say).
    const elsewhere = join(dir, 'elsewhere-b.tsbuildinfo');
    await writeFile(elsewhere, 'build b of another version');
    const otherB = (pkg: string) => (pkg === 'b' ? elsewhere : buildInfoOf(pkg));
    expect(isBundleFresh(bundle, both, otherB)).toBe(false);
    const unresolvable = (pkg: string) => {
      if (pkg === 'b') throw new Error('Cannot find package b');
      return buildInfoOf(pkg);
    };
    expect(isBundleFresh(bundle, both, unresolvable)).toBe(false);
  });

  it('judges a build whose file was touched, rewritten or moved by its content', async () => {
    const touched = await layout('touched', { a: 'build a', b: 'build b' });
    await utimes(touched.buildInfoOf('b'), new Date(2000, 0, 1), new Date(2000, 0, 1));
    expect(isBundleFresh(touched.bundle, both, touched.buildInfoOf)).toBe(true);
    // Rewritten with the same length (a rebuild): the status differs, the content decides.
    const rebuilt = await layout('rebuilt', { a: 'build a', b: 'build b' });
    await writeFile(rebuilt.buildInfoOf('b'), 'build B');
    expect(isBundleFresh(rebuilt.bundle, both, rebuilt.buildInfoOf)).toBe(false);
    await writeFile(rebuilt.buildInfoOf('b'), 'build b'); // the same bytes again: fresh
    expect(isBundleFresh(rebuilt.bundle, both, rebuilt.buildInfoOf)).toBe(true);
    // Installed elsewhere (npm pack gives every file one time), the same bytes: fresh.
    const installed = await layout('installed', { a: 'build a' });
    const moved = join(dir, 'installed-a.tsbuildinfo');
    await rename(installed.buildInfoOf('a'), moved);
    expect(isBundleFresh(installed.bundle, ['a'], () => moved)).toBe(true);
    await rm(moved);
    expect(isBundleFresh(installed.bundle, ['a'], () => moved)).toBe(false);
  });

  it('holds no bundle fresh with a file of it missing or changed', async () => {
    const missing = await layout('missing-chunk', { a: 'build a' });
    expect(isBundleFresh(missing.bundle, ['a'], missing.buildInfoOf)).toBe(true);
    await rm(join(missing.bundle, 'chunk-1.js'));
    expect(isBundleFresh(missing.bundle, ['a'], missing.buildInfoOf)).toBe(false);
    const cut = await layout('cut-chunk', { a: 'build a' });
    await writeFile(join(cut.bundle, 'chunk-1.js'), 'chu');
    expect(isBundleFresh(cut.bundle, ['a'], cut.buildInfoOf)).toBe(false);
  });

  it('holds no bundle fresh, and throws nothing, without a manifest that names its builds and files', async () => {
    const builds = { a: { sha256: sha256('build a') } };
    const outputs = { 'scan-bin.js': 5 };
    for (const [name, manifest] of [
      ['no-builds', JSON.stringify({ outputs })],
      ['no-outputs', JSON.stringify({ builds })],
      ['no-files', JSON.stringify({ builds, outputs: {} })],
      ['not-json', '{"builds": '],
      ['null-builds', JSON.stringify({ builds: null, outputs })],
      ['null-build', JSON.stringify({ builds: { a: null }, outputs })],
      ['bare-hash', JSON.stringify({ builds: { a: sha256('build a') }, outputs })],
      ['one-package-short', JSON.stringify({ builds, outputs })],
      ['another-package', JSON.stringify({ builds: { ...builds, c: builds.a }, outputs })],
      ['outside-file', JSON.stringify({ builds, outputs: { '../x.js': 1 } })],
      ['nul-file', JSON.stringify({ builds, outputs: { 'x\u0000.js': 1 } })],
    ] as const) {
      const { bundle, buildInfoOf } = await layout(name, { a: 'build a' }, manifest);
      const packages = name === 'one-package-short' ? both : ['a'];
      expect(isBundleFresh(bundle, packages, buildInfoOf), name).toBe(false);
    }
    const none = await layout('no-manifest', { a: 'build a' });
    await rm(join(none.bundle, 'manifest.json'));
    expect(isBundleFresh(none.bundle, ['a'], none.buildInfoOf)).toBe(false);
    // A build info whose path the system refuses (a NUL byte): not fresh, not an error.
    const nul = await layout('nul-path', { a: 'build a' });
    expect(isBundleFresh(nul.bundle, ['a'], () => `${nul.buildInfoOf('a')}\u0000`)).toBe(false);
  });
});

describe('bundleSourceFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-bundle-sources-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const writeJson = async (file: string, value: unknown) => {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(value));
  };

  it('finds Kysely as the server package does, not another copy beside the CLI', async () => {
    const modules = join(dir, 'node_modules');
    const server = join(modules, '@custos', 'server');
    await writeJson(join(dir, 'cli', 'package.json'), { name: 'custos' });
    await writeJson(join(server, 'package.json'), {
      name: '@custos/server',
      exports: { './package.json': './package.json' },
    });
    // The server's own Kysely (nested: another version than the one at the top), whose exports
    // do not list its package.json.
    for (const root of [join(server, 'node_modules', 'kysely'), join(modules, 'kysely')]) {
      await writeJson(join(root, 'package.json'), {
        name: 'kysely',
        exports: { '.': './index.js' },
      });
      await writeFile(join(root, 'index.js'), '');
    }
    await writeJson(join(modules, '@custos', 'scan', 'package.json'), {
      name: '@custos/scan',
      exports: { './package.json': './package.json' },
    });
    const cli = join(dir, 'cli');
    expect(bundleSourceFile(cli, 'kysely')).toBe(
      join(server, 'node_modules', 'kysely', 'package.json'),
    );
    expect(bundleSourceFile(cli, '@custos/scan')).toBe(
      join(modules, '@custos', 'scan', 'dist', '.tsbuildinfo'),
    );
    expect(bundleSourceFile(cli, 'custos')).toBe(join(cli, 'dist', '.tsbuildinfo'));
    // A package not installed: thrown (isBundleFresh counts that as not fresh).
    expect(() => bundleSourceFile(cli, '@custos/reencrypt')).toThrow();
  });
});

describe('custos scan --staged without commander', () => {
  it('runs the command with exactly the options commander parses for it', async () => {
    let parsed: unknown[] | undefined;
    const capture: Lazy =
      () =>
      async (...args) => {
        parsed = args.slice(0, -1);
      };
    const program = new Command('custos').exitOverride();
    registerScanCommand(program, capture);
    await program.parseAsync(['scan', '--staged'], { from: 'user' });
    expect(parsed).toEqual([[], { ...STAGED_SCAN_OPTIONS }]);
  });
});

describe.runIf(hasGit)('the bundle', () => {
  let work: string;
  let outdir: string;
  let bundleEntry: string;
  let hooks: string;
  const distEntry = join(packageRoot, 'dist', 'bin.js');
  const tokens = [githubToken(), githubToken(), githubToken()];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'custos-bundle-'));
    // Inside the package, so its bare imports (commander, ignore) resolve as from bundle/.
    outdir = await mkdtemp(join(packageRoot, '.bundle-test-'));
    const built = await node(join(packageRoot, 'scripts', 'bundle.mjs'), [outdir], packageRoot);
    expect(built).toMatchObject({ code: 0, stderr: '' });
    bundleEntry = join(outdir, 'scan-bin.js');
    // A module hook that lists every module a run loads (in CUSTOS_TEST_MODULE_LOG).
    await writeFile(
      join(work, 'list-modules.mjs'),
      [
        "import { appendFileSync } from 'node:fs';",
        'export async function load(url, context, next) {',
        "  appendFileSync(process.env.CUSTOS_TEST_MODULE_LOG, url + '\\n');",
        '  return next(url, context);',
        '}',
      ].join('\n'),
    );
    hooks = join(work, 'register.mjs');
    await writeFile(
      hooks,
      "import { register } from 'node:module';\nregister(new URL('./list-modules.mjs', import.meta.url));\n",
    );
    // A repository: three commits, a secret added, moved and removed, one staged.
    const repo = join(work, 'repo');
    gitIn(work, ['init', '-q', 'repo']);
    await writeFile(join(repo, 'app.env'), `GITHUB_TOKEN=${tokens[0]}\n`);
    await writeFile(join(repo, 'README.txt'), 'nothing to see\n');
    gitIn(repo, ['add', '.']);
    gitIn(repo, ['commit', '-q', '-m', 'first']);
    await writeFile(join(repo, 'deploy.yaml'), `token: ${tokens[1]}\n`);
    await rm(join(repo, 'app.env'));
    gitIn(repo, ['add', '-A']);
    gitIn(repo, ['commit', '-q', '-m', 'second']);
    await writeFile(join(repo, 'staged.ts'), `const token = '${tokens[2]}';\n`);
    gitIn(repo, ['add', 'staged.ts']);
    await writeFile(
      join(repo, '.custos-scan.json'),
      JSON.stringify({ allowlist: { paths: ['docs/**'] } }),
    );
  }, 60_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
    await rm(outdir, { recursive: true, force: true });
  });

  const both = async (args: readonly string[], stdin?: string) => {
    const cwd = join(work, 'repo');
    const env = { XDG_CACHE_HOME: join(work, 'cache') };
    const [bundled, unbundled] = [
      await node(bundleEntry, args, cwd, env, stdin),
      await node(distEntry, args, cwd, env, stdin),
    ];
    return { bundled, unbundled };
  };

  it('records the builds it was made from, which are the ones installed', async () => {
    const manifest = JSON.parse(await readFile(join(outdir, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.builds).sort()).toEqual([
      '@custos/core',
      '@custos/reencrypt',
      '@custos/scan',
      '@custos/server',
      'custos',
      'kysely',
    ]);
    const workspace = join(packageRoot, '..', '..');
    const sourceOf = (name: string) =>
      name === 'kysely'
        ? join(workspace, 'node_modules', 'kysely', 'package.json')
        : join(
            workspace,
            'packages',
            name === 'custos' ? 'cli' : name.slice('@custos/'.length),
            'dist',
            '.tsbuildinfo',
          );
    for (const name of BUNDLE_SOURCES)
      expect(bundleSourceFile(packageRoot, name)).toBe(sourceOf(name));
    expect(isBundleFresh(outdir, BUNDLE_SOURCES, sourceOf)).toBe(true);
    // Another Kysely (an update, say) is another build: the bundle's copy is not run beside it.
    const updated = (name: string) =>
      name === 'kysely' ? join(packageRoot, 'package.json') : sourceOf(name);
    expect(isBundleFresh(outdir, BUNDLE_SOURCES, updated)).toBe(false);
    // Every file the bundle wrote is listed, at its size.
    const written = (await readdir(outdir)).filter((file) => file !== 'manifest.json').sort();
    expect(Object.keys(manifest.outputs).sort()).toEqual(written);
  });

  it('answers every mode of custos scan as the unbundled CLI does', async () => {
    const modes: Array<{ args: string[]; stdin?: string; code: number }> = [
      { args: ['scan', '--staged'], code: 1 },
      { args: ['scan', '--staged', '--format', 'json'], code: 1 },
      { args: ['scan', '.', '--workers', '2', '--format', 'json'], code: 1 },
      { args: ['scan', '--git', '--workers', '2', '--format', 'json'], code: 1 },
      { args: ['scan', '--git', '--since', 'HEAD~1'], code: 1 },
      { args: ['scan', '.', '--format', 'sarif'], code: 1 },
      { args: ['scan', '--stdin', '--name', 'x.env'], stdin: `T=${tokens[0]}\n`, code: 1 },
      { args: ['scan', '--help'], code: 0 },
      { args: ['scan', '--staged', '--git'], code: 2 },
    ];
    for (const mode of modes) {
      const { bundled, unbundled } = await both(mode.args, mode.stdin);
      expect(bundled, mode.args.join(' ')).toEqual(unbundled);
      expect(bundled.code, mode.args.join(' ')).toBe(mode.code);
      for (const token of tokens) expect(bundled.stdout + bundled.stderr).not.toContain(token);
    }
    // The worker threads ran from the bundle: every file and blob was reported.
    const files = JSON.parse(
      (await both(['scan', '.', '--workers', '2', '-f', 'json'])).bundled.stdout,
    );
    expect(files.findings.map((f: { file: string }) => f.file).sort()).toEqual([
      'deploy.yaml',
      'staged.ts',
    ]);
    const history = JSON.parse(
      (await both(['scan', '--git', '--workers', '2', '-f', 'json'])).bundled.stdout,
    );
    expect(history.findings.map((f: { file: string }) => f.file).sort()).toEqual([
      'app.env',
      'deploy.yaml',
    ]);
    // The SARIF report names the scanner's own version, as from dist.
    const sarif = JSON.parse((await both(['scan', '.', '-f', 'sarif'])).bundled.stdout);
    const { version } = JSON.parse(
      await readFile(join(packageRoot, '..', 'scan', 'package.json'), 'utf8'),
    );
    expect(sarif.runs[0].tool.driver.version).toBe(version);
  }, 120_000);

  it('keeps a scan cache of its own and uses it on the next run', async () => {
    const args = ['scan', '.', '--cache-location', join(work, 'bundle-cache')];
    const cwd = join(work, 'repo');
    const env = { XDG_CACHE_HOME: join(work, 'cache') };
    const first = await node(bundleEntry, args, cwd, env);
    const second = await node(bundleEntry, args, cwd, env);
    expect(first.code).toBe(1);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toMatch(/scan cache: (\d+) of \1 files unchanged since the last run/);
  }, 60_000);

  /** The modules (URLs) `node script args…` loads, its worker threads' included. */
  const modulesLoadedBy = async (
    script: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv = {},
  ) => {
    const log = join(work, `modules-${Math.random().toString(36).slice(2)}.log`);
    const run = await new Promise<CliResult>((resolve) => {
      execFile(
        process.execPath,
        ['--import', hooks, script, ...args],
        {
          cwd: join(work, 'repo'),
          env: { PATH: process.env.PATH, CUSTOS_TEST_MODULE_LOG: log, ...env },
        },
        (error, stdout, stderr) =>
          resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
      );
    });
    expect(run.stderr).not.toMatch(/Error|custos:/);
    return (await readFile(log, 'utf8')).trim().split('\n');
  };
  const fromWorkspaceDist = (urls: readonly string[]) =>
    urls.filter((url) => /\/packages\/[^/]+\/dist\//.test(url));

  it('runs the pre-commit check and its worker threads from the bundle, not module by module', async () => {
    const staged = await modulesLoadedBy(bundleEntry, ['scan', '--staged']);
    expect(fromWorkspaceDist(staged)).toEqual([]);
    expect(staged.filter((url) => url.startsWith('file:')).length).toBeLessThan(25);
    // The worker scripts are found beside the code that starts them (a missing script would
    // quietly scan in one thread).
    const files = await modulesLoadedBy(bundleEntry, ['scan', '.', '--workers', '2']);
    expect(fromWorkspaceDist(files)).toEqual([]);
    expect(files).toContain(pathToFileURL(join(outdir, 'scan-worker.js')).href);
    const history = await modulesLoadedBy(bundleEntry, ['scan', '--git', '--workers', '2']);
    expect(fromWorkspaceDist(history)).toEqual([]);
    expect(history).toContain(pathToFileURL(join(outdir, 'history-worker.js')).href);
  }, 60_000);

  it('builds only the server branch of the command tree for custos server (it holds what it loads)', async () => {
    const distBin = join(packageRoot, 'dist', 'bin.js');
    const groupsLoaded = (urls: readonly string[]) =>
      [...new Set(urls.map((url) => /\/dist\/commands\/([^/]+)\//.exec(url)?.[1]))].filter(
        (group) => group !== undefined,
      );
    expect(groupsLoaded(await modulesLoadedBy(distBin, ['server', '--help']))).toEqual(['server']);
    expect(groupsLoaded(await modulesLoadedBy(distBin, ['scan', '--help']))).toEqual(['scan']);
    // Any other command builds the whole tree: every group registers itself.
    expect(groupsLoaded(await modulesLoadedBy(distBin, ['kv', '--help'])).length).toBeGreaterThan(
      20,
    );
  }, 60_000);

  it('writes its modules in ASCII (V8 holds a module with one other character at two bytes a character)', async () => {
    const files = (await readdir(outdir)).filter((file) => file.endsWith('.js'));
    expect(files.length).toBeGreaterThan(50);
    const notAscii = [];
    for (const file of files) {
      if (/[^\0-\x7f]/.test(await readFile(join(outdir, file), 'utf8'))) notAscii.push(file);
    }
    expect(notAscii).toEqual([]);
  });

  it('imports no node:tls as an ES module (its namespace reads rootCertificates: ~290 KB held)', async () => {
    const files = (await readdir(outdir)).filter((file) => file.endsWith('.js'));
    const importing = [];
    for (const file of files) {
      const source = await readFile(join(outdir, file), 'utf8');
      if (/\bfrom\s*["']node:tls["']|\bimport\s*\(\s*["']node:tls["']/.test(source))
        importing.push(file);
    }
    expect(importing).toEqual([]);
  });

  it('serves custos server from the bundle, Kysely included, no workspace module loaded from dist', async () => {
    const log = join(work, 'server-modules.log');
    const rootToken = 'bundle-root-token';
    const canary = `canary-${Math.random().toString(36).slice(2)}`;
    const server = await startDevServer(rootToken, {
      script: join(outdir, 'bin.js'),
      nodeFlags: ['--import', hooks],
      cwd: work,
      env: { CUSTOS_TEST_MODULE_LOG: log },
    });
    try {
      const headers = { 'x-vault-token': rootToken };
      const written = await fetch(`${server.url}/v1/secret/data/app`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ data: { password: canary } }),
      });
      expect(written.status).toBe(200);
      const read = await fetch(`${server.url}/v1/secret/data/app`, { headers });
      expect(((await read.json()) as { data: { data: unknown } }).data.data).toEqual({
        password: canary,
      });
      // The server's version and the dashboard are found by package name, as from dist.
      const health = (await (await fetch(`${server.url}/v1/sys/health`)).json()) as {
        version: string;
      };
      const { version } = JSON.parse(
        await readFile(join(packageRoot, '..', 'server', 'package.json'), 'utf8'),
      );
      expect(health.version).toBe(version);
      // An HCL policy: its parser runs in a worker thread, found from the bundle by name.
      const policy = 'path "secret/data/app" {\n  capabilities = ["read"]\n}\n';
      const stored = await fetch(`${server.url}/v1/sys/policies/acl/reader`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ policy }),
      });
      expect(stored.status).toBe(204);
      const listed = await fetch(`${server.url}/v1/sys/policies/acl/reader`, { headers });
      expect(((await listed.json()) as { data: { policy: string } }).data.policy).toBe(policy);
      const dashboardBuilt = existsSync(join(packageRoot, '..', 'ui', 'dist', 'index.html'));
      expect((await fetch(`${server.url}/ui/`)).status).toBe(dashboardBuilt ? 200 : 404);
    } finally {
      await server.stop();
    }
    const loaded = (await readFile(log, 'utf8')).trim().split('\n');
    expect(fromWorkspaceDist(loaded)).toEqual([]);
    expect(loaded.filter((url) => url.includes('/node_modules/kysely/'))).toEqual([]);
    // AES-GCM-SIV (1.25 MiB of tables) waits for its first use (crypto/aead.ts).
    expect(loaded.filter((url) => url.includes('/@noble/ciphers/'))).toEqual([]);
    // From dist the same start loads ~740 ES modules (~470 of the workspace, ~260 of Kysely).
    expect(loaded.filter((url) => url.startsWith('file:')).length).toBeLessThan(150);
  }, 60_000);

  it('is what bin/custos.js runs custos scan and custos server from while it is as new as the build', async () => {
    const fresh = freshBundle('scan');
    // npm test and npm run build write the bundle after tsc -b: under CI it is always fresh.
    if (process.env.CI === 'true') expect(fresh).toBeDefined();
    // One bundle, one freshness: custos server from its full entry; other commands from dist.
    expect(freshBundle('server')).toBe(fresh?.replace(/scan-bin\.js$/, 'bin.js'));
    for (const command of ['kv', 'check', 'constructor', '__proto__', undefined])
      expect(freshBundle(command), String(command)).toBeUndefined();
    const runs = [
      { args: ['scan', '--staged'], entry: '/packages/cli/bundle/scan-bin.js' },
      { args: ['server', '--help'], entry: '/packages/cli/bundle/bin.js' },
    ];
    for (const { args, entry } of runs) {
      const loaded = await modulesLoadedBy(join(packageRoot, 'bin', 'custos.js'), args);
      expect(loaded.some((url) => url.endsWith(entry))).toBe(fresh !== undefined);
      expect(loaded.some((url) => url.endsWith('/packages/cli/dist/bin.js'))).toBe(
        fresh === undefined,
      );
    }
    const other = await modulesLoadedBy(join(packageRoot, 'bin', 'custos.js'), ['kv', '--help']);
    expect(other.some((url) => url.includes('/packages/cli/bundle/'))).toBe(false);
    // CUSTOS_BUNDLE=0: from dist whatever the bundle (a dist patched by hand).
    const unbundled = await modulesLoadedBy(
      join(packageRoot, 'bin', 'custos.js'),
      ['scan', '--staged'],
      { CUSTOS_BUNDLE: '0' },
    );
    expect(unbundled.some((url) => url.endsWith('/packages/cli/bundle/scan-bin.js'))).toBe(false);
    expect(unbundled.some((url) => url.endsWith('/packages/cli/dist/bin.js'))).toBe(true);
  }, 60_000);
});

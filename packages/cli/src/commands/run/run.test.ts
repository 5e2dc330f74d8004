import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptEnvFile, generateEnvKey } from '@custos/core/secrets';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos, startCustos } from '../../../test/cli.js';

const hasGit = requireTool('git');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** A child that prints the SHA-256 of a variable (never the variable) and exits with a code. */
const printHash = (name: string, code = 0) =>
  `const v = process.env.${name}; console.log(v === undefined ? 'unset' : require('node:crypto').createHash('sha256').update(v).digest('hex')); process.exit(${code});`;

let root: string;
let counter = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'custos-run-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function project(files: Record<string, string>): Promise<string> {
  const path = join(root, `p${counter++}`);
  await mkdir(path);
  for (const [file, text] of Object.entries(files)) {
    await writeFile(join(path, file), text, { mode: 0o600 });
  }
  return path;
}

describe('custos run', () => {
  it('runs the command with the loaded values and passes its exit code through', async () => {
    const jwt = randomBytes(32).toString('base64url');
    const cwd = await project({ '.env.example': 'JWT_SECRET=\n', '.env': `JWT_SECRET=${jwt}\n` });
    const result = await custos(['run', '--', process.execPath, '-e', printHash('JWT_SECRET', 7)], {
      cwd,
    });
    expect(result).toEqual({ code: 7, stdout: `${sha256(jwt)}\n`, stderr: '' });
    // Without `--`: everything after the command name belongs to the command.
    const bare = await custos(['run', process.execPath, '-e', printHash('JWT_SECRET')], { cwd });
    expect(bare).toMatchObject({ code: 0, stdout: `${sha256(jwt)}\n` });
  });

  it('lets the process environment win outside production, as the SDK does', async () => {
    const fromFile = randomBytes(32).toString('base64url');
    const fromEnv = randomBytes(32).toString('base64url');
    const cwd = await project({ '.env': `API_TOKEN=${fromFile}\n` });
    const result = await custos(['run', '--', process.execPath, '-e', printHash('API_TOKEN')], {
      cwd,
      env: { API_TOKEN: fromEnv },
    });
    expect(result.stdout).toBe(`${sha256(fromEnv)}\n`);
  });

  it('refuses to start in production what the library refuses, and says why on stderr', async () => {
    const cwd = await project({
      '.env.example': 'JWT_SECRET=\nSTRIPE_SECRET_KEY=\nDB_PASSWORD=\n',
      '.env.production':
        'JWT_SECRET=changeme\nSTRIPE_SECRET_KEY=sk_test_4eC39HqLyjWDarjtT1zdp7dc\n',
    });
    const marker = join(cwd, 'started');
    const child = [
      '--',
      process.execPath,
      '-e',
      `require('node:fs').writeFileSync(${JSON.stringify(marker)}, '')`,
    ];
    const result = await custos(['run', '--environment', 'production', ...child], {
      cwd,
      env: { DB_PASSWORD: randomBytes(24).toString('base64') },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      '  ✗ JWT_SECRET: placeholder value left from an example or template',
    );
    expect(result.stderr).toContain(
      '  ✗ STRIPE_SECRET_KEY: development or test credential (refused in production)',
    );
    expect(result.stderr).toContain(
      '  ✗ DB_PASSWORD: missing (it is set in the process environment, which production does not read unless allowed)',
    );
    // The child never ran: it would have created the marker.
    await expect(import('node:fs/promises').then((fs) => fs.access(marker))).rejects.toMatchObject({
      code: 'ENOENT',
    });

    // The same file starts in development, with warnings on stderr.
    const dev = await custos(
      ['run', '--environment', 'development', '-e', '.env.production', ...child],
      {
        cwd,
        env: { DB_PASSWORD: randomBytes(24).toString('base64') },
      },
    );
    expect(dev.code).toBe(0);
    expect(dev.stderr).toContain('  ! JWT_SECRET: placeholder value');
  });

  it('forwards signals to the command and reports how it ended', async () => {
    const cwd = await project({ '.env': `API_TOKEN=${randomBytes(24).toString('base64url')}\n` });
    const script = `process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(42); }); console.log('ready'); setInterval(() => {}, 1000);`;
    const child = startCustos(['run', '--', process.execPath, '-e', script], { cwd });
    let stdout = '';
    let signalled = false;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      // Once: the test is that custos forwards one signal, not that it survives a stream of them.
      if (!signalled && stdout.includes('ready')) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise((resolve) => child.once('exit', (c) => resolve(c)));
    expect(stdout).toBe('ready\ngot SIGTERM\n');
    expect(code).toBe(42);

    const killed = await custos(
      ['run', '--', process.execPath, '-e', "process.kill(process.pid, 'SIGKILL')"],
      { cwd },
    );
    expect(killed.code).toBe(128 + 9);
  });

  it('keeps the exit code when a signal arrives after the command ended', async () => {
    // In-process, so the signal lands exactly in the gap between the command's end and custos's.
    const spawnModule = new URL('../../../dist/commands/run/spawn.js', import.meta.url).href;
    const script = [
      `const { runForwardingSignals } = await import(${JSON.stringify(spawnModule)});`,
      "const code = await runForwardingSignals(process.execPath, ['-e', 'process.exit(42)'], process.env);",
      "process.kill(process.pid, 'SIGTERM');",
      'await new Promise((resolve) => setTimeout(resolve, 100));',
      'process.exitCode = code;',
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: 'ignore',
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    expect({ code, signal }).toEqual({ code: 42, signal: null });
  });

  it('keeps the credentials custos loaded the configuration with out of the command', async () => {
    const envKey = generateEnvKey().reveal();
    const sharedKey = generateEnvKey().reveal();
    const jwt = randomBytes(32).toString('base64url');
    // A token written into a loaded file is a credential too, wherever it came from.
    const fileToken = `hvs.file-${randomBytes(12).toString('hex')}`;
    const cwd = await project({
      '.env.production': `JWT_SECRET=${jwt}\n`,
      '.env': `VAULT_TOKEN=${fileToken}\n`,
    });
    await encryptEnvFile(join(cwd, '.env.production'), {
      env: { CUSTOS_ENV_KEY_PRODUCTION: envKey },
    });
    const planted = {
      CUSTOS_ENV_KEY_PRODUCTION: envKey,
      CUSTOS_ENV_KEY: sharedKey,
      CUSTOS_ENV_KEY_STAGING: generateEnvKey().reveal(),
      CUSTOS_TOKEN: `cst.${randomBytes(16).toString('hex')}`,
      VAULT_TOKEN: `hvs.${randomBytes(16).toString('hex')}`,
    };
    const printEnv = [process.execPath, '-e', 'console.log(JSON.stringify(process.env))'];
    const args = ['run', '--environment', 'production', '--allow-process-env', '--', ...printEnv];
    const result = await custos(args, { cwd, env: planted });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const seen = JSON.parse(result.stdout) as Record<string, string>;
    // The configuration arrived, decrypted with the key the command no longer sees…
    expect(seen.JWT_SECRET).toBe(jwt);
    // …and no credential did, under any name.
    for (const [name, value] of Object.entries(planted)) {
      expect(seen, name).not.toHaveProperty(name);
      expect(result.stdout, name).not.toContain(value);
    }
    expect(seen).not.toHaveProperty('VAULT_TOKEN');

    // Passed on only when asked, one variable at a time (here .env's VAULT_TOKEN is loaded).
    const { VAULT_TOKEN: _fromEnv, ...withoutVaultToken } = planted;
    const kept = await custos(['run', '--pass-credential', 'CUSTOS_TOKEN', '--', ...printEnv], {
      cwd,
      env: withoutVaultToken,
    });
    const keptEnv = JSON.parse(kept.stdout) as Record<string, string>;
    expect(keptEnv.CUSTOS_TOKEN).toBe(planted.CUSTOS_TOKEN);
    for (const name of ['CUSTOS_ENV_KEY', 'CUSTOS_ENV_KEY_PRODUCTION', 'VAULT_TOKEN']) {
      expect(keptEnv, name).not.toHaveProperty(name);
    }
    expect(kept.stdout).not.toContain(fileToken);
    expect(kept.stdout).not.toContain(sharedKey);
    const typo = await custos(['run', '--pass-credential', 'CUSTOS_TOKNE', '--', ...printEnv], {
      cwd,
    });
    expect(typo).toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(
        /--pass-credential CUSTOS_TOKNE: not a credential custos removes/,
      ),
    });
    const help = await custos(['run', '--help']);
    expect(help.stdout).toMatch(/--pass-credential <name>/);
    expect(help.stdout).toMatch(/CUSTOS_TOKEN, VAULT_TOKEN/);
  });

  it('keeps the key file out of the command: the variable pointing at it, and the _FILE forms', async () => {
    const envKey = generateEnvKey().reveal();
    const jwt = randomBytes(32).toString('base64url');
    const cwd = await project({ '.env.production': `JWT_SECRET=${jwt}\n` });
    const keysDir = await mkdtemp(join(root, 'keys-'));
    const keysFile = join(keysDir, 'production.keys');
    await writeFile(keysFile, `CUSTOS_ENV_KEY_PRODUCTION=${envKey}\n`, { mode: 0o600 });
    await encryptEnvFile(join(cwd, '.env.production'), { keysFile });
    const tokenFile = join(keysDir, 'token');
    await writeFile(tokenFile, `cst.${randomBytes(16).toString('hex')}`, { mode: 0o600 });
    const pointers = {
      CUSTOS_ENV_KEYS_FILE: keysFile,
      CUSTOS_TOKEN_FILE: tokenFile,
      VAULT_TOKEN_FILE: tokenFile,
      CUSTOS_ENV_KEY_PRODUCTION_FILE: keysFile,
    };
    const printEnv = [process.execPath, '-e', 'console.log(JSON.stringify(process.env))'];
    const result = await custos(['run', '--environment', 'production', '--', ...printEnv], {
      cwd,
      env: pointers,
    });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const seen = JSON.parse(result.stdout) as Record<string, string>;
    // Decrypted with the keys of that file, which the command is not told where to find.
    expect(seen.JWT_SECRET).toBe(jwt);
    for (const name of Object.keys(pointers)) expect(seen, name).not.toHaveProperty(name);
    expect(result.stdout).not.toContain(keysDir);
    // Passed on when asked, case-insensitively, one at a time.
    const kept = await custos(
      [
        'run',
        '--environment',
        'production',
        '--pass-credential',
        'custos_env_keys_file',
        '--',
        ...printEnv,
      ],
      { cwd, env: pointers },
    );
    const keptEnv = JSON.parse(kept.stdout) as Record<string, string>;
    expect(keptEnv.CUSTOS_ENV_KEYS_FILE).toBe(keysFile);
    expect(keptEnv).not.toHaveProperty('CUSTOS_TOKEN_FILE');
    const help = await custos(['run', '--help']);
    expect(help.stdout).toMatch(/CUSTOS_ENV_KEYS_FILE/);
  });

  it('refuses in production a plaintext secret slipped into a file of encrypted values, naming it, never its value', async () => {
    const envKey = generateEnvKey().reveal();
    const planted = `planted-${randomBytes(16).toString('hex')}`;
    const cwd = await project({
      '.env.production': `JWT_SECRET=${randomBytes(32).toString('hex')}\nDB_PASSWORD=${randomBytes(24).toString('base64url')}\n`,
    });
    const file = join(cwd, '.env.production');
    await encryptEnvFile(file, { env: { CUSTOS_ENV_KEY_PRODUCTION: envKey } });
    const encrypted = await readFile(file, 'utf8');
    await writeFile(file, encrypted.replace(/^JWT_SECRET=.*$/m, `JWT_SECRET=${planted}`));
    const marker = join(cwd, 'started');
    const child = [
      '--',
      process.execPath,
      '-e',
      `require('node:fs').writeFileSync(${JSON.stringify(marker)}, '')`,
    ];
    const env = { CUSTOS_ENV_KEY_PRODUCTION: envKey };
    const refused = await custos(['run', '--environment', 'production', ...child], { cwd, env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `  ✗ JWT_SECRET: unreadable: JWT_SECRET in ${file} is plaintext, but the file holds enc: values`,
    );
    expect(refused.stderr).toContain('[ERR_ENV_VALUE_PLAINTEXT]');
    await expect(import('node:fs/promises').then((fs) => fs.access(marker))).rejects.toThrow();
    // Elsewhere it starts, with a note saying the same.
    const staging = await custos(
      ['run', '--environment', 'staging', '-e', '.env.production', ...child],
      { cwd, env },
    );
    expect(staging.code).toBe(0);
    expect(staging.stderr).toContain(
      `  note: JWT_SECRET in ${file} is plaintext, but the file holds enc: values`,
    );
    for (const output of [refused, staging]) {
      expect(output.stdout + output.stderr).not.toContain(planted);
    }
  });

  it.runIf(hasGit)(
    'refuses in production a plaintext .local override of an encrypted value, committed or not',
    async () => {
      const envKey = generateEnvKey().reveal();
      const planted = `OverriddenPlaintext-${randomBytes(12).toString('hex')}`;
      const cwd = await project({
        '.env.production': `DB_PASSWORD=${randomBytes(24).toString('base64url')}\n`,
        '.gitignore': '.env.keys\n',
      });
      const file = join(cwd, '.env.production');
      const env = { CUSTOS_ENV_KEY_PRODUCTION: envKey };
      await encryptEnvFile(file, { env });
      const local = join(cwd, '.env.production.local');
      await writeFile(local, `DB_PASSWORD=${planted}\n`);
      const child = ['--', process.execPath, '-e', 'console.log(process.env.DB_PASSWORD)'];
      const expected = `  ✗ DB_PASSWORD: unreadable: DB_PASSWORD in ${local} is plaintext, and overrides the enc: value of DB_PASSWORD in ${file}`;
      const untracked = await custos(['run', '--environment', 'production', ...child], {
        cwd,
        env,
      });
      // Committed: git's view changes nothing, the content decides.
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], {
          cwd,
          stdio: 'ignore',
        });
      git('init', '-q');
      git('add', '-f', '.env.production', '.env.production.local', '.gitignore');
      git('commit', '-q', '-m', 'override');
      const committed = await custos(['run', '--environment', 'production', ...child], {
        cwd,
        env,
      });
      for (const result of [untracked, committed]) {
        expect(result.code).toBe(1);
        expect(result.stdout).toBe('');
        expect(result.stderr).toContain(expected);
        expect(result.stderr).toContain('[ERR_ENV_VALUE_PLAINTEXT]');
        expect(result.stderr).not.toContain(planted);
      }
      // Elsewhere it starts, with a note saying the same.
      const development = await custos(
        [
          'run',
          '--environment',
          'development',
          '-e',
          '.env.production',
          '-e',
          '.env.production.local',
          ...child,
        ],
        { cwd, env },
      );
      expect(development.code).toBe(0);
      expect(development.stdout).toBe(`${planted}\n`);
      expect(development.stderr).toContain(
        `  note: DB_PASSWORD in ${local} is plaintext, and overrides the enc: value of DB_PASSWORD in ${file}`,
      );
      // Marked where it is, it is meant: production starts.
      await writeFile(local, `DB_PASSWORD=${planted} # custos: plaintext\n`);
      const marked = await custos(['run', '--environment', 'production', ...child], { cwd, env });
      expect(marked).toMatchObject({ code: 0, stdout: `${planted}\n` });
    },
  );

  it('exits 2 when the command cannot be started or is missing', async () => {
    const cwd = await project({});
    const missing = await custos(['run', '--', 'custos-no-such-command-x'], { cwd });
    expect(missing).toMatchObject({
      code: 2,
      stderr:
        'custos: cannot run custos-no-such-command-x: command not found [ERR_INVALID_ARGUMENT]\n',
    });
    expect((await custos(['run'], { cwd })).code).toBe(2);
  });
});

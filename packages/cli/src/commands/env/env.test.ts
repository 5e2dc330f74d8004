import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

/** The value of one `NAME=value` line (the key file holds nothing fancier). */
const lineValue = (text: string, name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(text)?.[1];

let root: string;
let counter = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'custos-env-'));
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

describe('custos env encrypt / decrypt', () => {
  it('encrypts a committable file, and run and validate decrypt it with the key from the environment', async () => {
    const jwt = randomBytes(32).toString('base64url');
    const plain = `# prod\nJWT_SECRET=${jwt}\nDB_PASSWORD='Zq8#nV2$wL5!pR9@x'\n`;
    const cwd = await project({
      '.env.example': 'JWT_SECRET=\nDB_PASSWORD=\n',
      '.env.production': plain,
    });
    const encrypted = await custos(['env', 'encrypt', '.env.production'], { cwd });
    expect(encrypted.code).toBe(0);
    expect(encrypted.stdout).toContain('encrypted 2 values in .env.production');
    expect(encrypted.stdout).toContain('as CUSTOS_ENV_KEY_PRODUCTION');
    const text = await readFile(join(cwd, '.env.production'), 'utf8');
    expect(text).not.toContain(jwt);
    expect(text).toMatch(/^JWT_SECRET=enc:v2:custos:/m);
    expect((await stat(join(cwd, '.env.keys'))).mode & 0o777).toBe(0o600);

    // Production gets the key as a variable; the key file is not deployed.
    const key = lineValue(
      await readFile(join(cwd, '.env.keys'), 'utf8'),
      'CUSTOS_ENV_KEY_PRODUCTION',
    );
    await rm(join(cwd, '.env.keys'));
    const env = { CUSTOS_ENV_KEY_PRODUCTION: key };
    const validated = await custos(['validate', '--environment', 'production'], { cwd, env });
    expect(validated).toMatchObject({ code: 0 });
    const script = `console.log(require('node:crypto').createHash('sha256').update(process.env.JWT_SECRET).digest('hex'))`;
    const ran = await custos(
      ['run', '--environment', 'production', '--', process.execPath, '-e', script],
      { cwd, env },
    );
    expect(ran).toMatchObject({
      code: 0,
      stdout: `${createHash('sha256').update(jwt).digest('hex')}\n`,
    });

    // Without the key the values are unreadable: a failed check, naming the key it needs.
    const locked = await custos(['validate', '--environment', 'production'], { cwd });
    expect(locked.code).toBe(1);
    expect(locked.stdout).toMatch(/JWT_SECRET: unreadable: .* needs env key [0-9a-f]{16}/);

    const decrypted = await custos(['env', 'decrypt', '.env.production'], { cwd, env });
    expect(decrypted).toMatchObject({
      code: 0,
      stdout:
        'decrypted 2 values in .env.production: it now holds plaintext secrets, written with mode 0600 (owner only); keep it out of git\n',
    });
    expect(await readFile(join(cwd, '.env.production'), 'utf8')).toBe(plain);
  });

  it('writes decrypted plaintext with mode 0600, replacing the file (never into the old one)', async () => {
    const secret = randomBytes(24).toString('base64url');
    const cwd = await project({ '.env.production': `DB_PASSWORD=${secret}\nPORT=8080\n` });
    const file = join(cwd, '.env.production');
    await custos(['env', 'encrypt', '.env.production'], { cwd });
    // As committed and checked out: readable by everyone, which is fine for enc: values.
    for (const mode of [0o644, 0o664, 0o666, 0o640]) {
      await chmod(file, mode);
      const before = await stat(file);
      const result = await custos(['env', 'decrypt', '.env.production'], { cwd });
      expect(result.code).toBe(0);
      const after = await stat(file);
      expect(after.mode & 0o777).toBe(0o600);
      // A new file renamed into place: the old inode, which others may hold open, never
      // received plaintext.
      expect(after.ino).not.toBe(before.ino);
      expect(await readFile(file, 'utf8')).toContain(`DB_PASSWORD=${secret}`);
      await custos(['env', 'encrypt', '.env.production'], { cwd });
    }
    // Nothing to decrypt: the file is left as it is.
    await writeFile(file, 'PORT=8080\n');
    await chmod(file, 0o644);
    const none = await custos(['env', 'decrypt', '.env.production'], { cwd });
    expect(none).toMatchObject({
      code: 0,
      stdout: 'no enc: values in .env.production; left unchanged\n',
    });
    expect((await stat(file)).mode & 0o777).toBe(0o644);
  });

  it('refuses a key file that is a symbolic link, and never copies its target', async () => {
    const elsewhere = await project({
      credentials: `aws_secret_access_key=${randomBytes(20).toString('hex')}\n`,
    });
    const target = join(elsewhere, 'credentials');
    const targetText = await readFile(target, 'utf8');
    const plain = `API_TOKEN=${randomBytes(20).toString('hex')}\n`;
    for (const [name, linkTo] of [
      ['to a private file', target],
      ['dangling', join(elsewhere, 'missing')],
    ] as const) {
      const cwd = await project({ '.env': plain });
      await symlink(linkTo, join(cwd, '.env.keys'));
      const encrypt = await custos(['env', 'encrypt', '.env'], { cwd });
      expect(encrypt.code, name).toBe(2);
      expect(encrypt.stderr).toMatch(
        /^custos: key file .*\.env\.keys is a symbolic link; .*\[ERR_INSECURE_FILE\]\n$/,
      );
      // The link is still a link, the env file still plaintext, the target untouched.
      expect((await lstat(join(cwd, '.env.keys'))).isSymbolicLink()).toBe(true);
      expect(await readFile(join(cwd, '.env'), 'utf8')).toBe(plain);
      const explicit = await custos(['env', 'encrypt', '--keys-file', '.env.keys', '.env'], {
        cwd,
      });
      expect(explicit.stderr, name).toContain('[ERR_INSECURE_FILE]');
      const fromEnv = await custos(['env', 'encrypt', '.env'], {
        cwd,
        env: { CUSTOS_ENV_KEYS_FILE: join(cwd, '.env.keys') },
      });
      expect(fromEnv.stderr, name).toContain('[ERR_INSECURE_FILE]');
    }
    expect(await readFile(target, 'utf8')).toBe(targetText);

    // Reading is refused the same way: validate and run do not load keys through a link.
    const cwd = await project({ '.env': plain });
    await custos(['env', 'encrypt', '.env'], { cwd });
    await rename(join(cwd, '.env.keys'), join(elsewhere, 'keys'));
    await symlink(join(elsewhere, 'keys'), join(cwd, '.env.keys'));
    const validated = await custos(['validate'], { cwd });
    expect(validated.code).toBe(1);
    expect(validated.stdout).toMatch(/API_TOKEN: unreadable: key file .* is a symbolic link/);
    const decrypt = await custos(['env', 'decrypt', '--stdout', '.env'], { cwd });
    expect(decrypt).toMatchObject({ code: 2, stdout: '' });
    // `env check` says so before anything is run against it.
    const checked = await custos(['env', 'check'], { cwd });
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(
      /✗ .*\.env\.keys: is a symbolic link; custos reads key files only as regular files/,
    );
  });

  it('refuses to rewrite an env file that is a symbolic link (its target would be left as it was)', async () => {
    const plain = `API_TOKEN=${randomBytes(20).toString('hex')}\n`;
    const cwd = await project({ 'real.env': plain });
    await symlink(join(cwd, 'real.env'), join(cwd, '.env'));
    const encrypt = await custos(['env', 'encrypt', '.env'], { cwd });
    expect(encrypt.code).toBe(2);
    expect(encrypt.stderr).toMatch(
      /env file .*\.env is a symbolic link: encrypt the file it points to/,
    );
    expect(await readFile(join(cwd, 'real.env'), 'utf8')).toBe(plain);
    expect((await lstat(join(cwd, '.env'))).isSymbolicLink()).toBe(true);
    await custos(['env', 'encrypt', 'real.env'], { cwd });
    const decrypt = await custos(['env', 'decrypt', '.env'], { cwd });
    expect(decrypt.stderr).toMatch(/is a symbolic link: decrypt the file it points to/);
    expect(await readFile(join(cwd, 'real.env'), 'utf8')).toMatch(/^API_TOKEN=enc:v2:/);
    // Printing reads through the link: nothing is written.
    const printed = await custos(['env', 'decrypt', '--stdout', '.env'], { cwd });
    expect(printed).toMatchObject({ code: 0, stdout: plain });
  });

  it('rotates to a new key, and decrypts to stdout on request', async () => {
    const cwd = await project({ '.env': 'API_TOKEN=token-value-1234567890abcdef\n' });
    await custos(['env', 'encrypt', '.env'], { cwd });
    const rotated = await custos(['env', 'encrypt', '--rotate', '.env'], { cwd });
    expect(rotated).toMatchObject({ code: 0 });
    expect(rotated.stdout).toContain('encrypted 1 values in .env');
    const keys = lineValue(await readFile(join(cwd, '.env.keys'), 'utf8'), 'CUSTOS_ENV_KEY');
    expect(keys?.split(',')).toHaveLength(2);
    const printed = await custos(['env', 'decrypt', '--stdout', '.env'], { cwd });
    expect(printed).toEqual({
      code: 0,
      stdout: 'API_TOKEN=token-value-1234567890abcdef\n',
      stderr: '',
    });
  });

  it('exits 2 for a missing file or a damaged value', async () => {
    const cwd = await project({ '.env': 'A=enc:custos:not-an-envelope\n' });
    expect((await custos(['env', 'encrypt', 'missing.env'], { cwd })).code).toBe(2);
    const damaged = await custos(['env', 'decrypt', '.env'], { cwd });
    expect(damaged).toMatchObject({ code: 2 });
    expect(damaged.stderr).toMatch(/A in .*\.env starts with "enc:" but is not a custos envelope/);
  });
});

const hasGit = requireTool('git');

describe('custos env check', () => {
  it.runIf(hasGit)('exits 0 for a tidy directory and 1 listing each finding', async () => {
    const cwd = await project({
      '.env.example': 'JWT_SECRET=\nPORT=\n',
      '.env': `JWT_SECRET=${randomBytes(32).toString('hex')}\nPORT=3000\n`,
      '.gitignore': '.env*\n!.env.example\n',
    });
    execFileSync('git', ['init', '-q'], { cwd });
    const clean = await custos(['env', 'check'], { cwd });
    expect(clean).toMatchObject({ code: 0, stdout: 'ok (1 env file)\n' });

    await writeFile(join(cwd, '.gitignore'), '');
    const token = randomBytes(20).toString('hex');
    await writeFile(join(cwd, '.env.production'), `ADMIN_TOKEN=${token}\n`, { mode: 0o644 });
    const result = await custos(['env', 'check', '--dir', cwd], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '.env.production: defines ADMIN_TOKEN, not listed in .env.example',
    );
    expect(result.stdout).toContain(
      '.env: holds plaintext secrets (JWT_SECRET) but git does not ignore it',
    );
    expect(result.stdout).toContain(
      '.env.production: holds plaintext secrets (ADMIN_TOKEN) and other users may read it (mode 644): chmod 600 .env.production',
    );
    expect(result.stdout).toMatch(/4 findings in 2 env files\n$/);
    expect(result.stdout).not.toContain(token);
  });

  it('says it could not check git-ignore outside a repository, and exits 0', async () => {
    const cwd = await project({
      '.env.example': 'JWT_SECRET=\n',
      '.env': `JWT_SECRET=${randomBytes(32).toString('hex')}\n`,
    });
    // Whatever holds the temporary directory, git must not look above the project.
    const env = { GIT_CEILING_DIRECTORIES: root };
    const result = await custos(['env', 'check'], { cwd, env });
    expect(result).toEqual({
      code: 0,
      stdout: `  note: could not check that .env is git-ignored: ${cwd} is not in a git repository\nok (1 env file, git-ignore not checked)\n`,
      stderr: '',
    });
    // Other findings still count.
    await writeFile(join(cwd, '.env'), `JWT_SECRET=${randomBytes(32).toString('hex')}\nX=1\n`);
    await chmod(join(cwd, '.env'), 0o644);
    const findings = await custos(['env', 'check'], { cwd, env });
    expect(findings.code).toBe(1);
    expect(findings.stdout).toMatch(/2 findings in 1 env file, git-ignore not checked\n$/);
  });
});

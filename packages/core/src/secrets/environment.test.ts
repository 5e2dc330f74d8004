import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultScrubber } from '../redaction/scrubber.js';
import { checkEnvFiles } from './env-check.js';
import { encryptEnvFile } from './env-file-crypt.js';
import { checkEnvironment } from './environment.js';
import { defineSecrets, secret } from './schema.js';

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-environment-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function project(files: Record<string, string>): Promise<string> {
  const path = join(dir, `p${counter++}`);
  await mkdir(path);
  for (const [file, text] of Object.entries(files)) {
    await writeFile(join(path, file), text, { mode: 0o600 });
  }
  return path;
}

const strong = () => randomBytes(32).toString('hex');
const summary = (problems: readonly { name: string; kind: string }[]) =>
  problems.map((p) => `${p.name}:${p.kind}`);

describe('checkEnvironment', () => {
  const example = [
    'JWT_SECRET=',
    'DB_PASSWORD=',
    'DB_HOST=',
    'EMAIL_ENABLED=false # custos: optional',
    'SMTP_PASS= # custos: required when EMAIL_ENABLED=true',
  ].join('\n');

  it('checks every example name, strength by name, conditions by directive', async () => {
    const path = await project({
      '.env.example': example,
      '.env': `JWT_SECRET=short-value-9x\nDB_PASSWORD=changeme\nEMAIL_ENABLED=true\n`,
    });
    const report = await checkEnvironment({ directory: path, environment: 'development', env: {} });
    expect(report.basis).toBe(join(path, '.env.example'));
    expect(report.checkedNames).toEqual([
      'JWT_SECRET',
      'DB_PASSWORD',
      'DB_HOST',
      'EMAIL_ENABLED',
      'SMTP_PASS',
    ]);
    expect(summary(report.problems)).toEqual(['DB_HOST:missing', 'SMTP_PASS:missing']);
    expect(summary(report.warnings)).toEqual(['JWT_SECRET:too-short', 'DB_PASSWORD:placeholder']);
    const production = await checkEnvironment({
      directory: path,
      environment: 'production',
      env: {},
    });
    expect(summary(production.problems)).toEqual([
      'JWT_SECRET:too-short',
      'DB_PASSWORD:placeholder',
      'DB_HOST:missing',
      'SMTP_PASS:missing',
    ]);
  });

  it('reads the process environment first outside production, and not in production unless allowed', async () => {
    const path = await project({ '.env.example': 'API_TOKEN=\n', '.env': '' });
    const env = { API_TOKEN: randomBytes(24).toString('base64url') };
    const development = await checkEnvironment({
      directory: path,
      environment: 'development',
      env,
    });
    expect(development.problems).toEqual([]);
    expect(development.variables.get('API_TOKEN')?.reveal()).toBe(env.API_TOKEN);
    const production = await checkEnvironment({ directory: path, environment: 'production', env });
    expect(production.problems).toEqual([
      {
        name: 'API_TOKEN',
        kind: 'missing',
        detail:
          'missing (it is set in the process environment, which production does not read unless allowed)',
      },
    ]);
    const allowed = await checkEnvironment({
      directory: path,
      environment: 'production',
      env,
      allowProcessEnv: true,
    });
    expect(allowed.problems).toEqual([]);
  });

  it('uses a schema when given, else the env files themselves', async () => {
    const key = randomBytes(32).toString('base64').replace(/^./, '+');
    const path = await project({ '.env.production': `ENCRYPTION_KEY=${key}\nPORT=8080\n` });
    const files = await checkEnvironment({ directory: path, environment: 'production', env: {} });
    expect(files.basis).toBe('env files');
    expect(files.problems).toEqual([]);
    expect([...files.variables.keys()].sort()).toEqual(['ENCRYPTION_KEY', 'PORT']);
    const schema = defineSecrets({ ENCRYPTION_KEY: secret({ encoding: 'hex', minBytes: 32 }) });
    const checked = await checkEnvironment({
      directory: path,
      environment: 'production',
      env: {},
      schema,
    });
    expect(summary(checked.problems)).toEqual(['ENCRYPTION_KEY:encoding']);
  });

  it('decrypts encrypted files, and reports a value it cannot decrypt', async () => {
    const path = await project({
      '.env.example': 'DB_PASSWORD=\n',
      '.env.production': `DB_PASSWORD=${randomBytes(20).toString('base64')}\nOTHER_KEY=${strong()}\n`,
    });
    await encryptEnvFile(join(path, '.env.production'), { env: {} });
    const ok = await checkEnvironment({ directory: path, environment: 'production', env: {} });
    expect(ok.problems).toEqual([]);
    await rm(join(path, '.env.keys'));
    const locked = await checkEnvironment({ directory: path, environment: 'production', env: {} });
    expect(summary(locked.problems)).toEqual(['DB_PASSWORD:unreadable', 'OTHER_KEY:unreadable']);
    expect(locked.problems[0]?.detail).toMatch(
      /needs env key [0-9a-f]{16}.*\[ERR_ENV_KEY_MISSING\]/,
    );
  });

  it('reads secret directories and NAME_FILE, noting files others may read', async () => {
    const path = await project({ '.env.example': 'DB_PASSWORD=\nJWT_SECRET=\n' });
    await mkdir(join(path, 'secrets'));
    await writeFile(join(path, 'secrets', 'db_password'), `${strong()}\n`, { mode: 0o644 });
    await writeFile(join(path, 'jwt'), strong(), { mode: 0o600 });
    const report = await checkEnvironment({
      directory: path,
      environment: 'production',
      secretDirectories: ['secrets'],
      env: { JWT_SECRET_FILE: join(path, 'jwt') },
    });
    expect(report.problems).toEqual([]);
    expect(report.notices).toEqual([
      `secret file ${join(path, 'secrets', 'db_password')} is readable by other users (mode 644); chmod 600 it`,
    ]);
  });
});

const hasGit = requireTool('git');

describe('checkEnvFiles', () => {
  it('finds names missing per mode, undocumented names and a real secret in the example', async () => {
    const path = await project({
      '.env.example': `JWT_SECRET=\nDB_HOST=\nADMIN_API_KEY=${strong()}\n`,
      '.env': 'DB_HOST=localhost\n',
      '.env.production': 'JWT_SECRET=enc:custos:AQ\nEXTRA=1\n',
      '.env.staging': 'DB_HOST=staging\n',
    });
    const { files, findings } = await checkEnvFiles({ directory: path });
    expect(files).toHaveLength(3);
    expect(findings.map((f) => [f.kind, f.detail])).toEqual([
      ['undocumented-name', 'defines EXTRA, not listed in .env.example'],
      [
        'missing-name',
        'mode production (.env + .env.production) lack ADMIN_API_KEY from .env.example',
      ],
      [
        'missing-name',
        'mode staging (.env + .env.staging) lack JWT_SECRET, ADMIN_API_KEY from .env.example',
      ],
      [
        'secret-in-example',
        'ADMIN_API_KEY look like real secrets; an example file holds placeholders only',
      ],
    ]);
  });

  it.runIf(hasGit)(
    'requires plaintext secrets and keys to be git-ignored and private',
    async () => {
      const path = await project({
        '.env.example': 'JWT_SECRET=\nPORT=\n',
        '.env': `JWT_SECRET=${strong()}\nPORT=1\n`,
        '.env.production': 'JWT_SECRET=enc:custos:AQ\nPORT=2\n',
        '.env.local': `JWT_SECRET=${strong()}\nPORT=3\n`,
        '.env.keys': 'CUSTOS_ENV_KEY=x\n',
        '.gitignore': '.env.local\n',
      });
      execFileSync('git', ['init', '-q'], { cwd: path });
      await chmod(join(path, '.env.local'), 0o644);
      const { findings } = await checkEnvFiles({ directory: path });
      expect(findings.map((f) => [f.file.slice(path.length + 1), f.kind])).toEqual([
        ['.env.keys', 'not-ignored'],
        ['.env', 'not-ignored'],
        ['.env.local', 'readable-by-others'],
      ]);
      expect(findings[1]?.detail).toBe(
        'holds plaintext secrets (JWT_SECRET) but git does not ignore it: add it to .gitignore, or encrypt it with custos env encrypt',
      );
      await writeFile(join(path, '.gitignore'), '.env*\n!.env.example\n');
      await chmod(join(path, '.env.local'), 0o600);
      expect(await checkEnvFiles({ directory: path })).toMatchObject({ findings: [], notices: [] });
    },
  );

  it.runIf(hasGit)('says so when git cannot tell what it ignores', async () => {
    const files = { '.env': `JWT_SECRET=${strong()}\n`, '.env.keys': 'CUSTOS_ENV_KEY=x\n' };
    const path = await project(files);
    const plain = await project({ '.env': 'PORT=1\n' });
    // Whatever holds the temporary directory, git must not look above the project.
    vi.stubEnv('GIT_CEILING_DIRECTORIES', dir);
    try {
      const outside = await checkEnvFiles({ directory: path });
      expect(outside.findings).toEqual([]);
      expect(outside.notices).toEqual([
        `could not check that .env.keys, .env are git-ignored: ${path} is not in a git repository`,
      ]);
      // Nothing to check, nothing to say.
      expect((await checkEnvFiles({ directory: plain })).notices).toEqual([]);
      vi.stubEnv('PATH', join(path, 'no-bin'));
      expect((await checkEnvFiles({ directory: path })).notices).toEqual([
        'could not check that .env.keys, .env are git-ignored: git is not installed',
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('URLs that carry credentials', () => {
  const password = `Pw-${randomBytes(9).toString('base64url')}`;
  const webhookPath = `/services/T0AAAA/B0BBBB/${randomBytes(12).toString('hex')}`;
  const files = {
    '.env.example': 'DATABASE_URL=\nSLACK_WEBHOOK_URL=\nPUBLIC_URL=\n',
    '.env': [
      `DATABASE_URL=postgres://app:${encodeURIComponent(password)}@db.internal:5432/app`,
      `SLACK_WEBHOOK_URL=https://hooks.slack.com${webhookPath}`,
      'PUBLIC_URL=https://status.acme.io/',
      '',
    ].join('\n'),
  };

  it('are registered with the scrubber by checkEnvironment (custos validate, custos run)', async () => {
    const path = await project(files);
    const report = await checkEnvironment({ directory: path, environment: 'development', env: {} });
    expect(report.problems).toEqual([]);
    const log = defaultScrubber.redact(
      `connect postgres://app:${password}@db.internal failed; posted to https://hooks.slack.com${webhookPath}; see https://status.acme.io/`,
    );
    expect(log).not.toContain(password);
    expect(log).not.toContain(webhookPath);
    expect(log).toContain('postgres://app:[REDACTED]@db.internal');
    expect(log).toContain('https://status.acme.io/'); // a plain URL stays readable
  });

  it('with a weak password are refused in production', async () => {
    const path = await project({
      '.env.example': 'DATABASE_URL=\nREDIS_URL=\n',
      '.env':
        'DATABASE_URL=postgres://postgres:postgres@db/app\nREDIS_URL=redis://:password123@cache:6379\n',
    });
    const report = await checkEnvironment({ directory: path, environment: 'production', env: {} });
    expect(summary(report.problems)).toEqual(['DATABASE_URL:weak', 'REDIS_URL:weak']);
    expect(report.problems[0]?.detail).toMatch(/^the password in the URL/);
    expect(JSON.stringify(report.problems)).not.toMatch(/postgres:postgres|password123/);
  });

  it.runIf(hasGit)('are flagged by checkEnvFiles when not git-ignored', async () => {
    const path = await project({ ...files, '.gitignore': '' });
    execFileSync('git', ['init', '-q'], { cwd: path });
    const { findings } = await checkEnvFiles({ directory: path });
    expect(findings.map((f) => f.detail)).toEqual([
      'holds plaintext secrets (DATABASE_URL, SLACK_WEBHOOK_URL) but git does not ignore it: add it to .gitignore, or encrypt it with custos env encrypt',
    ]);
  });
});

import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeProvider } from '../../test/fake-provider.js';
import { isCustosError } from '../errors/index.js';
import { chain } from './chain.js';
import { dotenvPrecedence } from './dotenv-files.js';
import { dotenvFiles } from './provider-dotenv.js';
import { processEnv } from './provider-env.js';
import { secretFiles } from './provider-files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-providers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function folder(name: string, files: Record<string, string>): Promise<string> {
  const path = join(dir, name);
  await mkdir(path, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    await writeFile(join(path, file), text, { mode: 0o600 });
  }
  return path;
}

describe('processEnv', () => {
  it('reads the given environment and is refused in production unless allowed', async () => {
    const provider = processEnv({ env: { A_TOKEN: 'x1', EMPTY: '' } });
    expect(await provider.get('A_TOKEN')).toBe('x1');
    expect(await provider.get('EMPTY')).toBe('');
    expect(await provider.get('constructor')).toBeUndefined();
    expect(await provider.list()).toEqual(['A_TOKEN', 'EMPTY']);
    expect(provider.refusedInProduction).toBe(true);
    expect(processEnv({ allowInProduction: true }).refusedInProduction).toBe(false);
  });
});

describe('dotenvFiles', () => {
  it('documents the precedence, skipping .env.local in test mode', () => {
    expect(dotenvPrecedence('production')).toEqual([
      '.env',
      '.env.local',
      '.env.production',
      '.env.production.local',
    ]);
    expect(dotenvPrecedence('test')).toEqual(['.env', '.env.test', '.env.test.local']);
  });

  it('merges the files, later ones winning', async () => {
    const path = await folder('precedence', {
      '.env': 'A=env\nB=env\nC=env\nD=env\n',
      '.env.local': 'B=local\nC=local\nD=local\n',
      '.env.production': 'C=production\nD=production\n',
      '.env.production.local': 'D=production-local\n',
      '.env.staging': 'C=staging\n',
    });
    const production = dotenvFiles({ directory: path, mode: 'production' });
    expect(
      await Promise.all(['A', 'B', 'C', 'D', 'E'].map((name) => production.get(name))),
    ).toEqual(['env', 'local', 'production', 'production-local', undefined]);
    expect([...(await production.list())].sort()).toEqual(['A', 'B', 'C', 'D']);
    const test = dotenvFiles({ directory: path, mode: 'test' });
    expect(await test.get('B')).toBe('env');
    const explicit = dotenvFiles({ directory: path, files: ['.env.staging', '.env', 'missing'] });
    expect(await explicit.get('C')).toBe('env');
  });

  it('parses with dotenv: quotes, export, comments, multi-line values', async () => {
    const path = await folder('parsing', {
      '.env': [
        '# comment',
        'export PLAIN=value # trailing comment',
        "SINGLE='has # hash'",
        'DOUBLE="line1\\nline2"',
        'MULTI="first',
        'second"',
        'SPACED =  padded  ',
      ].join('\n'),
    });
    const provider = dotenvFiles({ directory: path, mode: 'development' });
    expect(await provider.get('PLAIN')).toBe('value');
    expect(await provider.get('SINGLE')).toBe('has # hash');
    expect(await provider.get('DOUBLE')).toBe('line1\nline2');
    expect(await provider.get('MULTI')).toBe('first\nsecond');
    expect(await provider.get('SPACED')).toBe('padded');
  });

  it('sees a file change on the next read, and reports it to a watcher', async () => {
    const path = await folder('watched', { '.env': 'KEY_A=one\n' });
    const provider = dotenvFiles({ directory: path, mode: 'development' });
    expect(await provider.get('KEY_A')).toBe('one');
    const changed: string[][] = [];
    const stop = provider.watch?.((names) => changed.push([...names]));
    await writeFile(join(path, '.env'), 'KEY_A=two-longer\nKEY_B=new\n');
    expect(await provider.get('KEY_A')).toBe('two-longer');
    await vi.waitFor(() =>
      expect(changed.flat()).toEqual(expect.arrayContaining(['KEY_A', 'KEY_B'])),
    );
    stop?.();
  });
});

describe('secretFiles', () => {
  it('reads NAME_FILE first, then the directories (exact or lower-case names)', async () => {
    const docker = await folder('run-secrets', {
      db_password: 'from-docker\n',
      API_TOKEN: 'from-docker-token\r\n',
      MULTI: 'line1\nline2\n\n',
    });
    const pointed = await folder('pointed', { value: 'from-pointer' });
    const provider = secretFiles({
      directories: [join(dir, 'does-not-exist'), docker],
      env: { DB_PASSWORD_FILE: join(pointed, 'value'), SSL_CERT_FILE: '/etc/ssl/cert.pem' },
      onWarning: () => {},
    });
    expect(await provider.get('DB_PASSWORD')).toBe('from-pointer');
    expect(await provider.get('API_TOKEN')).toBe('from-docker-token');
    expect(await provider.get('MULTI')).toBe('line1\nline2\n');
    expect(await provider.get('NOT_THERE')).toBeUndefined();
    expect(await provider.get('../escape')).toBeUndefined();
    // Pointers are resolved on demand: unrelated *_FILE variables are not listed as secrets.
    expect([...(await provider.list())].sort()).toEqual(['API_TOKEN', 'MULTI', 'db_password']);
  });

  it('fails clearly when NAME_FILE points nowhere, and refuses huge files', async () => {
    const big = await folder('big', { HUGE: 'x'.repeat(2048) });
    const provider = secretFiles({
      directories: [big],
      env: { JWT_SECRET_FILE: join(dir, 'nothing-here') },
      maxBytes: 1024,
    });
    const error = await provider.get('JWT_SECRET').catch((e: unknown) => e);
    expect(isCustosError(error, 'ERR_SECRET_PROVIDER')).toBe(true);
    expect((error as Error).message).toMatch(/JWT_SECRET_FILE points to .*nothing-here/);
    await expect(provider.get('HUGE')).rejects.toThrow(/over the 1024-byte limit/);
  });

  it('warns once about a file other users may read', async () => {
    const path = await folder('readable', { SHARED: 'value-123456' });
    await chmod(join(path, 'SHARED'), 0o644);
    const warnings: string[] = [];
    const provider = secretFiles({ directories: [path], onWarning: (m) => warnings.push(m) });
    await provider.get('SHARED');
    await provider.get('SHARED');
    expect(warnings).toEqual([
      `secret file ${join(path, 'SHARED')} is readable by other users (mode 644); chmod 600 it`,
    ]);
  });

  it('reports changes in its directories to a watcher', async () => {
    const path = await folder('watched-secrets', { DB_PASSWORD: 'first-value' });
    const provider = secretFiles({ directories: [path] });
    const seen: string[] = [];
    const stop = provider.watch?.((names) => seen.push(...names));
    await writeFile(join(path, 'DB_PASSWORD'), 'second-value');
    await vi.waitFor(() => expect(seen).toContain('DB_PASSWORD'));
    expect(await provider.get('DB_PASSWORD')).toBe('second-value');
    stop?.();
  });

  it('reads a Kubernetes-style mount (symlinks into a timestamped directory)', async () => {
    const mount = await folder('k8s', {});
    await folder('k8s/..2024_01_01_00_00_00.1', { DB_PASSWORD: 'k8s-value-one' });
    await symlink('..2024_01_01_00_00_00.1', join(mount, '..data'));
    await symlink('..data/DB_PASSWORD', join(mount, 'DB_PASSWORD'));
    const provider = secretFiles({ directories: [mount] });
    expect(await provider.get('DB_PASSWORD')).toBe('k8s-value-one');
    expect(await provider.list()).toEqual(['DB_PASSWORD']);
  });
});

describe('chain', () => {
  it('answers from the first provider that holds the name', async () => {
    const first = fakeProvider({ A: 'first' }, 'first');
    const second = fakeProvider({ A: 'second', B: 'second' }, 'second');
    const provider = chain([first, second]);
    expect(provider.name).toBe('first > second');
    expect(await provider.get('A')).toBe('first');
    expect(second.calls.get('A')).toBeUndefined();
    expect(await provider.get('B')).toBe('second');
    expect(await provider.get('C')).toBeUndefined();
    expect([...(await provider.list())].sort()).toEqual(['A', 'B']);
  });

  it('stops at a failing provider instead of falling through to a lower one', async () => {
    const failing = fakeProvider({}, 'vault');
    failing.failWith = new Error('ECONNREFUSED');
    const fallback = fakeProvider({ A: 'stale-dev-value' }, 'dotenv');
    const error = await chain([failing, fallback])
      .get('A')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_SECRET_PROVIDER',
      message: 'provider "vault" failed to read A: ECONNREFUSED',
    });
    expect(fallback.calls.get('A')).toBeUndefined();
  });

  it('merges watchers and reports production refusal of any member', () => {
    const a = fakeProvider({}, 'a');
    const b = fakeProvider({}, 'b');
    const seen: string[] = [];
    const stop = chain([a, b, processEnv({ env: {} })]).watch?.((names) => seen.push(...names));
    a.notify(['X']);
    b.notify(['Y']);
    stop?.();
    a.notify(['Z']);
    expect(seen).toEqual(['X', 'Y']);
    expect(chain([a, processEnv()]).refusedInProduction).toBe(true);
    expect(chain([a]).refusedInProduction).toBe(false);
    expect(chain([processEnv()]).watch).toBeUndefined();
  });
});

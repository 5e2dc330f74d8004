import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'dotenv';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDotenvValue, rewriteDotenvValues, setDotenvValue } from './dotenv-text.js';
import { decryptEnvValue, encryptEnvValue } from './env-crypt.js';
import { decryptEnvFile, encryptEnvFile } from './env-file-crypt.js';
import {
  buildKeySet,
  envKeyVariable,
  findEnvKeys,
  findLegacyEnvKeys,
  generateEnvKey,
  modeOfEnvFile,
} from './env-key.js';
import { dotenvFiles } from './provider-dotenv.js';

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-envenc-'));
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

const keySet = (text = generateEnvKey().reveal(), mode: string | undefined = undefined) =>
  buildKeySet([{ text, source: 'test' }], ['test'], '/nowhere/.env.keys', mode);

describe('env keys', () => {
  it('have a documented text form and map to modes and variables', () => {
    expect(generateEnvKey().reveal()).toMatch(/^custos-env-key:v1:[0-9a-f]{16}:[A-Za-z0-9_-]{43}$/);
    expect(String(generateEnvKey())).toBe('[REDACTED]');
    expect(modeOfEnvFile('/x/.env.production')).toBe('production');
    expect(modeOfEnvFile('.env.production.local')).toBe('production');
    expect(modeOfEnvFile('.env')).toBeUndefined();
    expect(modeOfEnvFile('.env.local')).toBeUndefined();
    expect(modeOfEnvFile('.env.example')).toBeUndefined();
    expect(envKeyVariable('staging-eu')).toBe('CUSTOS_ENV_KEY_STAGING_EU');
    expect(envKeyVariable(undefined)).toBe('CUSTOS_ENV_KEY');
  });

  it('may repeat a key under its id, but not give one id two keys', () => {
    const key = generateEnvKey().reveal();
    const id = key.split(':')[2] as string;
    const twice = buildKeySet(
      [
        { text: key, source: 'CUSTOS_ENV_KEY (env)' },
        { text: key, source: '.env.keys' },
      ],
      ['test'],
      '/nowhere/.env.keys',
      undefined,
    );
    expect([...twice.keyIds]).toEqual([id]);
    // Same id, different material (its first character changed): refused, naming the id only.
    const start = key.lastIndexOf(':') + 1;
    const forged = `${key.slice(0, start)}${key[start] === 'A' ? 'B' : 'A'}${key.slice(start + 1)}`;
    let message = '';
    try {
      buildKeySet(
        [
          { text: key, source: 'CUSTOS_ENV_KEY (env)' },
          { text: forged, source: '.env.keys' },
        ],
        ['test'],
        '/nowhere/.env.keys',
        undefined,
      );
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(`two different env keys share the id ${id} (.env.keys); keep one`);
  });

  it('are found in the environment and the key file, several per variable', async () => {
    const [a, b, c, d] = [1, 2, 3, 4].map(() => generateEnvKey().reveal());
    const path = await project({
      '.env.keys': `CUSTOS_ENV_KEY_PRODUCTION=${c}\nCUSTOS_ENV_KEY=${d}\n`,
    });
    const keys = await findEnvKeys('production', path, {
      env: { CUSTOS_ENV_KEY_PRODUCTION: `${a}, ${b}` },
    });
    const idOf = (key: string | undefined) => key?.split(':')[2] as string;
    // A file with a mode has its own keys only: never the shared CUSTOS_ENV_KEY.
    expect([...keys.keyIds]).toEqual([a, b, c].map(idOf));
    expect(keys.primary).toBe(`env-${idOf(a)}`);
    expect(keys.mode).toBe('production');
    expect(keys.keysFile).toBe(join(path, '.env.keys'));
    const shared = await findEnvKeys(undefined, path, { env: {} });
    expect([...shared.keyIds]).toEqual([idOf(d)]);
    // Only the migration of the first enc: format also reads the shared key.
    const legacy = await findLegacyEnvKeys('production', path, { env: {} });
    expect([...legacy.keyIds]).toEqual([c, d].map(idOf));
    const none = await findEnvKeys(undefined, path, { env: {}, keysFile: join(path, 'missing') });
    expect(none.primary).toBeUndefined();
  });

  it('refuse a malformed key, and a key file other users may read', async () => {
    const path = await project({ '.env.keys': `CUSTOS_ENV_KEY=${generateEnvKey().reveal()}\n` });
    await expect(
      findEnvKeys(undefined, path, { env: { CUSTOS_ENV_KEY: 'custos-env-key:v1:zz:short' } }),
    ).rejects.toThrow(/CUSTOS_ENV_KEY in the environment is not a list of custos env keys/);
    await chmod(join(path, '.env.keys'), 0o644);
    await expect(findEnvKeys(undefined, path, { env: {} })).rejects.toMatchObject({
      code: 'ERR_INSECURE_FILE',
    });
  });
});

describe('encrypted values', () => {
  it('round-trip, and are bound to their variable name', () => {
    const keys = keySet();
    const sealed = encryptEnvValue(keys, 'JWT_SECRET', 'the-value-1234567890');
    expect(sealed).toMatch(/^enc:v2:custos:[A-Za-z0-9_-]+$/);
    expect(decryptEnvValue(keys, 'JWT_SECRET', sealed, '.env')).toBe('the-value-1234567890');
    expect(() => decryptEnvValue(keys, 'DB_PASSWORD', sealed, '.env.production')).toThrow(
      expect.objectContaining({
        code: 'ERR_DECRYPTION_FAILED',
        message:
          'DB_PASSWORD in .env.production does not decrypt: the value was edited, or moved from another variable or from a file of another mode',
      }),
    );
  });

  it('name the missing key, and refuse tampered or truncated values', () => {
    const keys = keySet();
    const other = keySet();
    const sealed = encryptEnvValue(keys, 'A', 'value-abcdef');
    const keyId = keys.primary?.slice(4);
    expect(() => decryptEnvValue(other, 'A', sealed, '.env')).toThrow(
      expect.objectContaining({
        code: 'ERR_ENV_KEY_MISSING',
        message: expect.stringContaining(`needs env key ${keyId}`),
      }),
    );
    const flipped = sealed.slice(0, -3) + (sealed.at(-3) === 'A' ? 'B' : 'A') + sealed.slice(-2);
    expect(() => decryptEnvValue(keys, 'A', flipped, '.env')).toThrow(
      expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
    );
    for (const damaged of ['enc:custos:AQ', 'enc:v2:custos:AQ', 'enc:v2:', 'enc:v3:custos:AQ']) {
      expect(() => decryptEnvValue(keys, 'A', damaged, '.env')).toThrow(
        expect.objectContaining({ code: 'ERR_MALFORMED_CIPHERTEXT' }),
      );
    }
    expect(() => encryptEnvValue(buildKeySet([], ['nowhere'], 'x', undefined), 'A', 'v')).toThrow(
      expect.objectContaining({ code: 'ERR_ENV_KEY_MISSING' }),
    );
  });
});

describe('dotenv text', () => {
  it('writes any value so dotenv reads it back exactly', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (value) => {
        fc.pre(value.trim() === value && value !== '');
        // Values no quoting can carry are refused, never written wrong.
        let formatted: string;
        try {
          formatted = formatDotenvValue('NAME', value);
        } catch {
          return;
        }
        expect(parse(`NAME=${formatted}`).NAME).toBe(value);
      }),
      { numRuns: 500 },
    );
    expect(formatDotenvValue('A', 'plain-value_1.2:3@x')).toBe('plain-value_1.2:3@x');
    expect(formatDotenvValue('A', 'has # hash')).toBe("'has # hash'");
    expect(formatDotenvValue('A', 'two\nlines')).toBe("'two\nlines'");
  });

  it('rewrites values in place, keeping comments, exports, order and empty values', () => {
    const text = [
      '# header',
      'export A=one # keep me',
      '',
      "B='two words'",
      'C=',
      'D="multi',
      'line"',
      'A=again',
    ].join('\n');
    const out = rewriteDotenvValues(text, (name, value) =>
      name === 'B' ? undefined : `${value.toUpperCase()}-x`,
    );
    expect(out).toBe(
      [
        '# header',
        'export A=ONE-x # keep me',
        '',
        "B='two words'",
        'C=',
        "D='MULTI",
        "LINE-x'",
        'A=AGAIN-x',
      ].join('\n'),
    );
    expect(setDotenvValue('X=1\n', 'Y', 'two')).toBe('X=1\nY=two\n');
    expect(setDotenvValue('X=1', 'X', 'three')).toBe('X=three');
  });
});

describe('encryptEnvFile / decryptEnvFile', () => {
  const plain = [
    '# production settings',
    'export JWT_SECRET=7f3a9c1e5b8d2f4a6c0e9b1d3f5a7c9e  # rotate yearly',
    "DB_PASSWORD='Zq8#nV2$wL5!pR9@'",
    'EMPTY=',
    'MULTI="line1',
    'line2"',
    '',
  ].join('\n');

  it('encrypts every value, creates a key file (0600), and the provider decrypts transparently', async () => {
    const path = await project({ '.env.production': plain });
    const file = join(path, '.env.production');
    const result = await encryptEnvFile(file, { env: {} });
    expect(result).toMatchObject({
      encrypted: 3,
      unchanged: 0,
      keyVariable: 'CUSTOS_ENV_KEY_PRODUCTION',
      keysFile: join(path, '.env.keys'),
      wroteKey: true,
    });
    const encrypted = await readFile(file, 'utf8');
    expect(encrypted).not.toContain('7f3a9c1e');
    expect(encrypted).not.toContain('Zq8#');
    expect(encrypted).toContain('# production settings');
    expect(encrypted).toContain('  # rotate yearly');
    expect(encrypted).toMatch(/^export JWT_SECRET=enc:v2:custos:/m);
    expect(encrypted).toContain('EMPTY=\n');
    expect((await stat(join(path, '.env.keys'))).mode & 0o777).toBe(0o600);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const provider = dotenvFiles({ directory: path, mode: 'production', env: {} });
    expect(await provider.get('DB_PASSWORD')).toBe('Zq8#nV2$wL5!pR9@');
    expect(await provider.get('MULTI')).toBe('line1\nline2');

    // Again: nothing left to encrypt, the same key is used.
    expect(await encryptEnvFile(file, { env: {} })).toMatchObject({
      encrypted: 0,
      unchanged: 3,
      wroteKey: false,
    });
    const { text, decrypted } = await decryptEnvFile(file, { env: {} });
    expect(decrypted).toBe(3);
    expect(parse(text)).toEqual(parse(plain));
    expect(text).toContain('# rotate yearly');
  });

  it('rotates: a new key first, every value re-encrypted, old keys still listed', async () => {
    const path = await project({ '.env.staging': 'API_TOKEN=token-value-1234567890\n' });
    const file = join(path, '.env.staging');
    await encryptEnvFile(file, { env: {} });
    const before = parse(await readFile(join(path, '.env.keys'), 'utf8')).CUSTOS_ENV_KEY_STAGING;
    const rotated = await encryptEnvFile(file, { env: {}, rotate: true });
    expect(rotated).toMatchObject({ encrypted: 1, wroteKey: true });
    const after = parse(await readFile(join(path, '.env.keys'), 'utf8')).CUSTOS_ENV_KEY_STAGING;
    expect(after?.split(',')).toHaveLength(2);
    expect(after?.endsWith(`,${before}`)).toBe(true);
    // The value is now under the new key only: the old key alone cannot read it.
    const provider = dotenvFiles({
      directory: path,
      mode: 'staging',
      env: { CUSTOS_ENV_KEY_STAGING: before },
      keysFile: join(path, 'absent'),
    });
    await expect(provider.get('API_TOKEN')).rejects.toMatchObject({ code: 'ERR_ENV_KEY_MISSING' });
    const withNew = dotenvFiles({ directory: path, mode: 'staging', env: {} });
    expect(await withNew.get('API_TOKEN')).toBe('token-value-1234567890');
  });

  it('writes nothing when a value cannot be re-encrypted', async () => {
    const path = await project({ '.env': 'A=value-one-123\n' });
    const file = join(path, '.env');
    await encryptEnvFile(file, { env: {} });
    const keysBefore = await readFile(join(path, '.env.keys'), 'utf8');
    const fileBefore = await readFile(file, 'utf8');
    await rm(join(path, '.env.keys'));
    await writeFile(join(path, '.env.keys'), `CUSTOS_ENV_KEY=${generateEnvKey().reveal()}\n`, {
      mode: 0o600,
    });
    await expect(encryptEnvFile(file, { env: {}, rotate: true })).rejects.toMatchObject({
      code: 'ERR_ENV_KEY_MISSING',
    });
    expect(await readFile(file, 'utf8')).toBe(fileBefore);
    expect(keysBefore).not.toBe(await readFile(join(path, '.env.keys'), 'utf8'));
    expect((await readFile(join(path, '.env.keys'), 'utf8')).split(',')).toHaveLength(1);
  });

  it('refuses a missing file', async () => {
    await expect(encryptEnvFile(join(dir, 'nope', '.env'))).rejects.toThrow(/does not exist/);
  });

  it('writes decrypted plaintext owner-only (0600), whatever the encrypted file was', async () => {
    const path = await project({ '.env.production': 'DB_PASSWORD=value-one-123\n' });
    const file = join(path, '.env.production');
    await encryptEnvFile(file, { env: {} });
    await chmod(file, 0o644);
    expect(await decryptEnvFile(file, { env: {}, write: true })).toMatchObject({ decrypted: 1 });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toBe('DB_PASSWORD=value-one-123\n');
    // Encrypting keeps the file's mode: ciphertext may be as readable as the user wants.
    await chmod(file, 0o644);
    await encryptEnvFile(file, { env: {} });
    expect((await stat(file)).mode & 0o777).toBe(0o644);
  });

  it('refuses a key file that is a symbolic link, for reading and before writing a key', async () => {
    const path = await project({ '.env': 'A=value-one-123\n', 'other.keys': 'X=1\n' });
    await symlink(join(path, 'other.keys'), join(path, '.env.keys'));
    const refused = { code: 'ERR_INSECURE_FILE', message: expect.stringMatching(/symbolic link/) };
    await expect(encryptEnvFile(join(path, '.env'), { env: {} })).rejects.toMatchObject(refused);
    await expect(findEnvKeys(undefined, path, { env: {} })).rejects.toMatchObject(refused);
    expect(await readFile(join(path, '.env'), 'utf8')).toBe('A=value-one-123\n');
    expect(await readFile(join(path, 'other.keys'), 'utf8')).toBe('X=1\n');
  });
});

describe('keys and values are bound to the file mode', () => {
  const lineOf = (text: string, name: string) =>
    text.split('\n').find((line) => line.startsWith(`${name}=`)) as string;

  it('a production file gets its own key even when the shared key exists', async () => {
    const shared = generateEnvKey().reveal();
    const path = await project({
      '.env.keys': `CUSTOS_ENV_KEY=${shared}\n`,
      '.env.production': 'DB_PASSWORD=prod-password-0123456789\n',
    });
    const file = join(path, '.env.production');
    const result = await encryptEnvFile(file, { env: {} });
    expect(result).toMatchObject({ keyVariable: 'CUSTOS_ENV_KEY_PRODUCTION', wroteKey: true });
    const keys = parse(await readFile(join(path, '.env.keys'), 'utf8'));
    expect(keys.CUSTOS_ENV_KEY).toBe(shared);
    expect(keys.CUSTOS_ENV_KEY_PRODUCTION).toMatch(/^custos-env-key:v1:/);
    // The shared key alone (what every developer holds) cannot read production values.
    const withShared = dotenvFiles({
      directory: path,
      mode: 'production',
      env: { CUSTOS_ENV_KEY: shared },
      keysFile: join(path, 'absent'),
    });
    await expect(withShared.get('DB_PASSWORD')).rejects.toMatchObject({
      code: 'ERR_ENV_KEY_MISSING',
    });
    const withOwn = dotenvFiles({
      directory: path,
      mode: 'production',
      env: { CUSTOS_ENV_KEY_PRODUCTION: keys.CUSTOS_ENV_KEY_PRODUCTION },
      keysFile: join(path, 'absent'),
    });
    expect(await withOwn.get('DB_PASSWORD')).toBe('prod-password-0123456789');
  });

  it('a value copied from another mode does not decrypt, even under the same key', async () => {
    const key = generateEnvKey().reveal();
    const env = {
      CUSTOS_ENV_KEY: key,
      CUSTOS_ENV_KEY_STAGING: key,
      CUSTOS_ENV_KEY_PRODUCTION: key,
    };
    const path = await project({
      '.env': 'DB_PASSWORD=dev-password-0123456789\n',
      '.env.staging': 'DB_PASSWORD=staging-password-0123456789\n',
      '.env.production': 'DB_PASSWORD=prod-password-0123456789\n',
    });
    for (const name of ['.env', '.env.staging', '.env.production']) {
      await encryptEnvFile(join(path, name), { env });
    }
    const production = join(path, '.env.production');
    const reader = dotenvFiles({ directory: path, mode: 'production', env, files: [production] });
    expect(await reader.get('DB_PASSWORD')).toBe('prod-password-0123456789');
    for (const source of ['.env.staging', '.env']) {
      const copied = lineOf(await readFile(join(path, source), 'utf8'), 'DB_PASSWORD');
      await writeFile(production, `${copied}\n`);
      const swapped = dotenvFiles({
        directory: path,
        mode: 'production',
        env,
        files: [production],
      });
      await expect(swapped.get('DB_PASSWORD')).rejects.toMatchObject({
        code: 'ERR_DECRYPTION_FAILED',
        message: expect.stringContaining('DB_PASSWORD in'),
      });
    }
  });

  it('refuses values of the first format, and --rotate moves them to the current one', async () => {
    // What the first format wrote: bound to the name only, here under the shared key (the
    // fallback that put production values under the key every developer holds).
    const shared = generateEnvKey().reveal();
    const sharedKeys = keySet(shared);
    const legacy = `enc:${sharedKeys.keyring.encryptToString(sharedKeys.primary as string, 'old-format-password-0123', { aad: { purpose: 'custos/dotenv/v1', name: 'DB_PASSWORD' } })}`;
    const path = await project({
      '.env.keys': `CUSTOS_ENV_KEY=${shared}\n`,
      '.env.production': `DB_PASSWORD=${legacy}\nPORT=8080\n`,
    });
    const file = join(path, '.env.production');
    const reader = dotenvFiles({ directory: path, mode: 'production', env: {} });
    const outdated = {
      code: 'ERR_ENV_VALUE_OUTDATED',
      message: expect.stringContaining(`custos env encrypt --rotate ${file}`),
    };
    await expect(reader.get('DB_PASSWORD')).rejects.toMatchObject(outdated);
    await expect(decryptEnvFile(file, { env: {} })).rejects.toMatchObject(outdated);
    // A plain encrypt would leave a file that does not load: refused, nothing written.
    const before = await readFile(file, 'utf8');
    await expect(encryptEnvFile(file, { env: {} })).rejects.toMatchObject(outdated);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(parse(await readFile(join(path, '.env.keys'), 'utf8')).CUSTOS_ENV_KEY_PRODUCTION).toBe(
      undefined,
    );

    const rotated = await encryptEnvFile(file, { env: {}, rotate: true });
    expect(rotated).toMatchObject({ encrypted: 2, keyVariable: 'CUSTOS_ENV_KEY_PRODUCTION' });
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^DB_PASSWORD=enc:v2:custos:/m);
    const keys = parse(await readFile(join(path, '.env.keys'), 'utf8'));
    expect(keys.CUSTOS_ENV_KEY_PRODUCTION?.split(',')).toHaveLength(1);
    const fresh = dotenvFiles({ directory: path, mode: 'production', env: {} });
    expect(await fresh.get('DB_PASSWORD')).toBe('old-format-password-0123');
  });
});

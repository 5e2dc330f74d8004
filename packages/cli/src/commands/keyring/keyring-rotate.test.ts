import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKeyringFile } from '@custos/core/crypto';
import { createFieldCipher } from '@custos/core/fields';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

const run = (...args: string[]) => custos(args);

describe('custos keyring rotate', () => {
  let dir: string;
  let n = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-keyring-rotate-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The keyring of the docs' Quick start: `default`, `blind-index` and `deterministic`. */
  async function quickStart() {
    const file = join(dir, `keyring-${n++}.json`);
    expect((await run('keyring', 'create', '--out', file)).code).toBe(0);
    const add = ['--file', file, '--name', 'deterministic', '--algorithm', 'aes-256-gcm-siv'];
    expect((await run('keyring', 'add', ...add)).code).toBe(0);
    return file;
  }
  const versions = async (file: string) =>
    Object.fromEntries(
      (await readKeyringFile(file)).toJSON().keys.map((k) => [k.name, k.primaryVersion]),
    );

  it('works as the issue writes it on the Quick start keyring: randomised keys rotate, deterministic ones are skipped with a reason', async () => {
    const file = await quickStart();
    const where = { table: 'patients', column: 'ssn', rowId: 1 };
    const email = { table: 'patients', column: 'email', deterministic: true };
    const before = createFieldCipher({ keyring: await readKeyringFile(file) });
    const oldSsn = before.encrypt('078-05-1120', where);
    const oldEmail = before.encrypt('jane@example.com', email);

    const rotated = await run('keyring', 'rotate', '--file', file);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toBe(
      'rotated "default": v2 is now primary; older versions still decrypt\n',
    );
    expect(rotated.stderr).toMatch(
      /skipped "deterministic" \(deterministic\).*--name deterministic or --all/,
    );
    expect(rotated.stderr).toMatch(/kept "blind-index".*only with --blind-index/);
    expect(await versions(file)).toEqual({ default: 2, 'blind-index': 1, deterministic: 1 });
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const after = createFieldCipher({ keyring: await readKeyringFile(file) });
    expect(after.decrypt(oldSsn, where)).toBe('078-05-1120');
    expect(after.describe(after.encrypt('x', where))).toMatchObject({
      keyVersion: 2,
      current: true,
    });
    expect(after.describe(oldSsn)).toMatchObject({ keyVersion: 1, current: false });
    // The deterministic column still matches: same ciphertext for the same value.
    expect(after.encrypt('jane@example.com', email)).toBe(oldEmail);
  });

  it('rotates a deterministic key only when named, or with --all', async () => {
    const file = await quickStart();
    const named = await run('keyring', 'rotate', '--file', file, '--name', 'deterministic');
    expect(named).toMatchObject({ code: 0, stderr: '' });
    expect(await versions(file)).toEqual({ default: 1, 'blind-index': 1, deterministic: 2 });
    const all = await run('keyring', 'rotate', '--file', file, '--all');
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n')).toHaveLength(2);
    expect(await versions(file)).toEqual({ default: 2, 'blind-index': 1, deterministic: 3 });
  });

  it('refuses what it cannot do safely, with exit 2 and nothing written', async () => {
    const file = await quickStart();
    for (const flags of [
      ['--name', 'default', '--all'],
      ['--blind-index', '--all'],
      ['--name', 'default', '--blind-index'],
    ]) {
      expect(await run('keyring', 'rotate', '--file', file, ...flags)).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/either --name, --all or --blind-index/),
      });
    }
    const unknown = await run('keyring', 'rotate', '--file', file, '--name', 'nope');
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/ERR_KEY_NOT_FOUND/) });
    const onlyDeterministic = join(dir, 'search.json');
    const create = [
      '--out',
      onlyDeterministic,
      '--name',
      'search',
      '--algorithm',
      'aes-256-gcm-siv',
      '--no-blind-index',
    ];
    expect((await run('keyring', 'create', ...create)).code).toBe(0);
    const skipped = await run('keyring', 'rotate', '--file', onlyDeterministic);
    expect(skipped).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/only deterministic keys \(search\).*--name, or pass --all/),
    });
    expect(await versions(onlyDeterministic)).toEqual({ search: 1 });
    expect(await versions(file)).toEqual({ default: 1, 'blind-index': 1, deterministic: 1 });
    const noBlindIndexKey = await run(
      'keyring',
      'rotate',
      '--file',
      onlyDeterministic,
      '--blind-index',
    );
    expect(noBlindIndexKey).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/ERR_KEY_NOT_FOUND/),
    });
  });

  it('never rotates the blind-index key in a routine rotation: indexes stay; --blind-index rotates it alone', async () => {
    const file = await quickStart();
    const email = { table: 'patients', column: 'email', normalize: true };
    const stored = createFieldCipher({ keyring: await readKeyringFile(file) }).blindIndex(
      'jane@example.com',
      email,
    );
    expect((await run('keyring', 'rotate', '--file', file)).code).toBe(0);
    expect((await run('keyring', 'rotate', '--file', file, '--all')).code).toBe(0);
    const routine = createFieldCipher({ keyring: await readKeyringFile(file) });
    expect(routine.blindIndex('jane@example.com', email)).toBe(stored);

    const rotated = await run('keyring', 'rotate', '--file', file, '--blind-index');
    expect(rotated).toMatchObject({ code: 0, stderr: '' });
    expect(rotated.stdout).toMatch(
      /rotated "blind-index": v2 is now primary.*blindIndexCandidates.*custos reencrypt --blind-index/,
    );
    expect(await versions(file)).toEqual({ default: 3, 'blind-index': 2, deterministic: 2 });
    const after = createFieldCipher({ keyring: await readKeyringFile(file) });
    expect(after.blindIndex('jane@example.com', email)).not.toBe(stored);
    expect(after.blindIndexCandidates('jane@example.com', email)).toContain(stored);
  });

  it('creates the blind-index key with every keyring, unless asked not to', async () => {
    const file = join(dir, `keyring-${n++}.json`);
    const created = await run('keyring', 'create', '--out', file);
    expect(created.stdout).toMatch(
      /key "default" id [0-9a-f]{16} aes-256-gcm v1, key "blind-index" id [0-9a-f]{16} v1 \(blind indexes only\)/,
    );
    const bare = join(dir, `keyring-${n++}.json`);
    expect((await run('keyring', 'create', '--out', bare, '--no-blind-index')).code).toBe(0);
    expect(await versions(bare)).toEqual({ default: 1 });
  });
});

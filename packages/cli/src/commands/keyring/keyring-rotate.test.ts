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

  /** The keyring of the docs' Quick start: `default` and `deterministic`. */
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
    expect(await versions(file)).toEqual({ default: 2, deterministic: 1 });
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
    expect(await versions(file)).toEqual({ default: 1, deterministic: 2 });
    const all = await run('keyring', 'rotate', '--file', file, '--all');
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n')).toHaveLength(2);
    expect(await versions(file)).toEqual({ default: 2, deterministic: 3 });
  });

  it('refuses what it cannot do safely, with exit 2 and nothing written', async () => {
    const file = await quickStart();
    const both = await run('keyring', 'rotate', '--file', file, '--name', 'default', '--all');
    expect(both).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/either --name or --all/),
    });
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
    ];
    expect((await run('keyring', 'create', ...create)).code).toBe(0);
    const skipped = await run('keyring', 'rotate', '--file', onlyDeterministic);
    expect(skipped).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/only deterministic keys \(search\).*--name, or pass --all/),
    });
    expect(await versions(onlyDeterministic)).toEqual({ search: 1 });
    expect(await versions(file)).toEqual({ default: 1, deterministic: 1 });
  });
});

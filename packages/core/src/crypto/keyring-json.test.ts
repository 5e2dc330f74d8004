import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Keyring } from './keyring.js';
import { readKeyringFile, writeKeyringFile } from './keyring-file.js';
import { loadKeyring, serializeKeyring } from './keyring-json.js';

// A planted canary: 32 bytes whose base64 must never appear in any error message.
const CANARY = Buffer.from('CANARY-KEY-MATERIAL-0123456789ab');
const CANARY_B64 = CANARY.toString('base64');

function sampleKeyring(): Keyring {
  const keyring = new Keyring();
  keyring.createKey('fields', { material: CANARY });
  keyring.rotate('fields');
  keyring.createKey('search', { algorithm: 'aes-256-gcm-siv' });
  keyring.rotate('search');
  keyring.setState('search', 1, 'destroyed');
  keyring.encrypt('fields', 'x');
  return keyring;
}

function expectMalformed(input: unknown, pattern: RegExp): void {
  let error: unknown;
  try {
    loadKeyring(input);
  } catch (err) {
    error = err;
  }
  expect(error).toMatchObject({
    code: 'ERR_MALFORMED_KEYRING',
    message: expect.stringMatching(pattern),
  });
  expect(String((error as Error).message)).not.toContain(CANARY_B64.slice(0, 12));
  expect(String((error as Error).stack)).not.toContain(CANARY_B64.slice(0, 12));
}

describe('serializeKeyring / loadKeyring', () => {
  it('round-trips keys, ids, versions, states, counters and decrypts old ciphertexts', () => {
    const keyring = sampleKeyring();
    const ct = keyring.encrypt('fields', 'hello', { aad: 'a' });
    const text = serializeKeyring(keyring);
    const loaded = loadKeyring(text);
    expect(loaded.toJSON()).toEqual(keyring.toJSON());
    expect(loaded.decrypt(ct, { aad: 'a' }).toString()).toBe('hello');
    expect(loadKeyring(JSON.parse(text)).toJSON()).toEqual(keyring.toJSON());
    expect(JSON.parse(text).keys[1].versions[0]).not.toHaveProperty('key');
  });

  it('refuses every truncation of the file with a clear error', () => {
    const text = serializeKeyring(sampleKeyring());
    for (let length = 0; length < text.length - 1; length += 7) {
      expectMalformed(text.slice(0, length), /./);
    }
  });

  it('never quotes the file in a JSON syntax error', () => {
    const text = serializeKeyring(sampleKeyring());
    expectMalformed(text.replace('"custos"', 'custos'), /not valid JSON/);
  });

  it('names the bad field for each kind of damage', () => {
    const good = JSON.parse(serializeKeyring(sampleKeyring()));
    // biome-ignore lint/suspicious/noExplicitAny: the cases damage arbitrary parts of parsed JSON
    const cases: [string, (j: any) => void, RegExp][] = [
      [
        'format',
        (j) => {
          j.custos = 'x';
        },
        /"custos" must be "keyring"/,
      ],
      [
        'version',
        (j) => {
          j.formatVersion = 2;
        },
        /formatVersion/,
      ],
      [
        'key name',
        (j) => {
          j.keys[0].name = 'bad name!';
        },
        /keys\[0\]\.name is not a valid key name/,
      ],
      [
        'empty key name',
        (j) => {
          j.keys[0].name = '';
        },
        /keys\[0\]\.name/,
      ],
      [
        'key id',
        (j) => {
          j.keys[0].id = 'xyz';
        },
        /keys\[0\]\.id/,
      ],
      [
        'algorithm',
        (j) => {
          j.keys[0].algorithm = 'des';
        },
        /keys\[0\]\.algorithm/,
      ],
      [
        'short key',
        (j) => {
          j.keys[0].versions[0].key = CANARY.subarray(0, 20).toString('base64');
        },
        /keys\[0\]\.versions\[0\]\.key must decode to 32 bytes, got 20/,
      ],
      [
        'bad base64',
        (j) => {
          j.keys[0].versions[0].key = `${CANARY_B64.slice(0, 40)}!!!`;
        },
        /keys\[0\]\.versions\[0\]\.key is not valid base64/,
      ],
      [
        'missing key',
        (j) => {
          delete j.keys[0].versions[1].key;
        },
        /keys\[0\]\.versions\[1\]\.key/,
      ],
      [
        'destroyed with key',
        (j) => {
          j.keys[1].versions[0].key = CANARY_B64;
        },
        /destroyed but still holds/,
      ],
      [
        'state',
        (j) => {
          j.keys[0].versions[0].state = 'on';
        },
        /state must be one of/,
      ],
      [
        'order',
        (j) => {
          j.keys[0].versions.reverse();
        },
        /greater than the one before/,
      ],
      [
        'primary missing',
        (j) => {
          j.keys[0].primaryVersion = 9;
        },
        /primaryVersion names a version/,
      ],
      [
        'primary disabled',
        (j) => {
          j.keys[0].versions[1].state = 'disabled';
        },
        /enabled version/,
      ],
      [
        'min above primary',
        (j) => {
          j.keys[0].minDecryptionVersion = 3;
          j.keys[0].versions.push({ ...j.keys[0].versions[1], version: 3 });
        },
        /minDecryptionVersion must not exceed/,
      ],
      [
        'limit',
        (j) => {
          j.keys[0].encryptionLimit = 2 ** 40;
        },
        /must not exceed 2\^32/,
      ],
      [
        'duplicate name',
        (j) => {
          j.keys[1].name = 'fields';
        },
        /exists/,
      ],
      [
        'duplicate id',
        (j) => {
          j.keys[1].id = j.keys[0].id;
        },
        /used twice/,
      ],
      [
        'date',
        (j) => {
          j.keys[0].versions[0].createdAt = 'yesterday';
        },
        /createdAt/,
      ],
      [
        'counter',
        (j) => {
          j.keys[0].versions[0].encryptions = -1;
        },
        /encryptions/,
      ],
    ];
    for (const [, damage, pattern] of cases) {
      const copy = structuredClone(good);
      damage(copy);
      expectMalformed(copy, pattern);
    }
  });
});

describe('keyring files', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('are written with mode 0600 and refused when others can read them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-keyring-'));
    dirs.push(dir);
    const path = join(dir, 'keyring.json');
    await writeKeyringFile(path, sampleKeyring());
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readKeyringFile(path)).keyNames()).toEqual(['fields', 'search']);
    await chmod(path, 0o644);
    await expect(readKeyringFile(path)).rejects.toMatchObject({ code: 'ERR_INSECURE_FILE' });
    const warnings: string[] = [];
    await readKeyringFile(path, { permissions: 'warn', onWarning: (m) => warnings.push(m) });
    expect(warnings[0]).toMatch(/chmod 600/);
  });

  it('a rewrite replaces the file whole and keeps mode 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-keyring-'));
    dirs.push(dir);
    const path = join(dir, 'keyring.json');
    await writeFile(path, 'old contents', { mode: 0o600 });
    const keyring = sampleKeyring();
    await writeKeyringFile(path, keyring);
    expect(loadKeyring(await readFile(path, 'utf8')).toJSON()).toEqual(keyring.toJSON());
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('reports a missing file plainly', async () => {
    await expect(readKeyringFile('/nonexistent/keyring.json')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/does not exist/),
    });
  });
});

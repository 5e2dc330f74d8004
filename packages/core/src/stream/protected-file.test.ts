/**
 * Protected key files: a keyring, a JWT keyset and a local KMS file wrapped like a backup (a
 * passphrase, an X25519 identity, a key file), opened by every loader with `unlock` or the
 * environment's keys, written back protected for the same keys; a wrong or missing key and a
 * tampered file are typed errors that never echo the key material or the passphrase.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/keyring.js';
import { readKeyringFile, writeKeyringFile } from '../crypto/keyring-file.js';
import { loadKeyring, serializeKeyring } from '../crypto/keyring-json.js';
import { LocalKms } from '../kms/local-kms.js';
import { JwtKeyset } from '../tokens/keyset.js';
import { readJwtKeysetFile, writeJwtKeysetFile } from '../tokens/keyset-file.js';
import { loadJwtKeyset, serializeJwtKeyset } from '../tokens/keyset-json.js';
import { passphraseKey } from './passphrase.js';
import { isProtectedKeyFile } from './protected-armor.js';
import { protectKeyFile, unprotectKeyFile } from './protected-file.js';
import { backupKey } from './symmetric-key.js';
import { generateBackupIdentity, x25519Identity, x25519Recipient } from './x25519.js';

/** The cheapest Argon2id a writer accepts: tests stay fast. */
const FAST = { parameters: { memoryKiB: 19 * 1024, iterations: 2, parallelism: 1 } };
const CANARY = `CANARY-protected-${randomBytes(6).toString('hex')}`;

describe('protected key files', () => {
  let dir: string;
  let n = 0;
  const path = (name: string) => join(dir, `${n++}-${name}`);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-protected-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function protectedKeyring() {
    const keyring = new Keyring();
    keyring.createKey('fields');
    const passFile = path('pass');
    await writeFile(passFile, `${CANARY}\n`, { mode: 0o600 });
    const file = path('keyring.json');
    const text = await protectKeyFile(serializeKeyring(keyring), {
      recipients: [passphraseKey(CANARY, FAST)],
    });
    await writeFile(file, text, { mode: 0o600 });
    return { keyring, file, passFile, text };
  }

  it('a keyring protected by a passphrase opens through readKeyringFile, with unlock or the environment', async () => {
    const { keyring, file, passFile, text } = await protectedKeyring();
    expect(isProtectedKeyFile(text)).toBe(true);
    expect(text).not.toContain('fields');
    const sealed = keyring.encrypt('fields', 'patient 7');
    const viaUnlock = await readKeyringFile(file, {
      unlock: { identities: [passphraseKey(CANARY)] },
    });
    expect(viaUnlock.decrypt(sealed).toString()).toBe('patient 7');
    const viaEnv = await readKeyringFile(file, {
      unlock: { env: { CUSTOS_KEY_PASSPHRASE_FILE: passFile } },
    });
    expect(viaEnv.decrypt(sealed).toString()).toBe('patient 7');
    expect(
      loadKeyring(await unprotectKeyFile(text, { identities: [passphraseKey(CANARY)] })).has(
        'fields',
      ),
    ).toBe(true);
  });

  it('without a key, with a wrong one, or as text to loadKeyring: ERR_KEY_FILE_LOCKED naming what it needs, never the passphrase', async () => {
    const { file, text } = await protectedKeyring();
    const none = await readKeyringFile(file, { unlock: { env: {} } }).then(
      () => expect.fail('opened without the right key'),
      (e: Error) => e,
    );
    expect(none).toMatchObject({ code: 'ERR_KEY_FILE_LOCKED' });
    expect(none.message).toMatch(/no unlock key was given; it needs one of: passphrase \(Argon2id/);
    expect(none.message).toMatch(/CUSTOS_KEY_PASSPHRASE_FILE/);
    const wrong = await readKeyringFile(file, {
      unlock: { identities: [passphraseKey(`${CANARY}x`)] },
    }).then(
      () => expect.fail('opened without the right key'),
      (e: Error) => e,
    );
    expect(wrong).toMatchObject({ code: 'ERR_KEY_FILE_LOCKED' });
    expect(() => loadKeyring(text)).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_FILE_LOCKED' }),
    );
    for (const err of [none, wrong]) expect(`${err.message}${err.stack}`).not.toContain(CANARY);
  });

  it('a tampered protected file fails authentication; a cut one is malformed', async () => {
    const { file, text } = await protectedKeyring();
    const lines = text.split('\n');
    const at = 3;
    const line = lines[at] as string;
    lines[at] = `${line[0] === 'A' ? 'B' : 'A'}${line.slice(1)}`;
    await writeFile(file, lines.join('\n'), { mode: 0o600 });
    const unlock = { identities: [passphraseKey(CANARY)] };
    await expect(readKeyringFile(file, { unlock })).rejects.toMatchObject({
      code: expect.stringMatching(/ERR_DECRYPTION_FAILED|ERR_MALFORMED_CIPHERTEXT/),
    });
    await writeFile(file, text.slice(0, text.length - 50), { mode: 0o600 });
    await expect(readKeyringFile(file, { unlock })).rejects.toMatchObject({
      code: 'ERR_MALFORMED_CIPHERTEXT',
    });
  });

  it('a keyring read from a protected file is written back protected for the same identity', async () => {
    const { identity, recipient } = generateBackupIdentity();
    const keyring = new Keyring();
    keyring.createKey('fields');
    const file = path('keyring.json');
    await writeFile(
      file,
      await protectKeyFile(serializeKeyring(keyring), { recipients: [x25519Recipient(recipient)] }),
      { mode: 0o600 },
    );
    const unlock = { identities: [x25519Identity(identity)] };
    const opened = await readKeyringFile(file, { unlock });
    opened.rotate('fields');
    await writeKeyringFile(file, opened);
    const written = await readFile(file, 'utf8');
    expect(isProtectedKeyFile(written)).toBe(true);
    expect((await readKeyringFile(file, { unlock })).info('fields').primaryVersion).toBe(2);
    const plain = path('plain.json');
    await writeKeyringFile(plain, keyring);
    expect(isProtectedKeyFile(await readFile(plain, 'utf8'))).toBe(false);
  });

  it('a JWT keyset and a local KMS file protected by a key file open through their loaders and stay protected on save', async () => {
    const key = backupKey(randomBytes(32));
    const unlock = { identities: [key] };
    const keyset = await JwtKeyset.generate('EdDSA');
    const keysetFile = path('jwt.json');
    await writeFile(
      keysetFile,
      await protectKeyFile(serializeJwtKeyset(keyset), { recipients: [key] }),
      {
        mode: 0o600,
      },
    );
    const opened = await readJwtKeysetFile(keysetFile, { unlock });
    expect(opened.current.kid).toBe(keyset.current.kid);
    expect((await loadJwtKeyset(await readFile(keysetFile, 'utf8'), { unlock })).current.kid).toBe(
      keyset.current.kid,
    );
    await writeJwtKeysetFile(keysetFile, await opened.rotate({ graceSeconds: 60 }), {
      protectedLike: opened,
    });
    expect(isProtectedKeyFile(await readFile(keysetFile, 'utf8'))).toBe(true);
    await expect(readJwtKeysetFile(keysetFile, { unlock: { env: {} } })).rejects.toMatchObject({
      code: 'ERR_KEY_FILE_LOCKED',
    });

    const kmsFile = path('kms.json');
    const plainKms = await LocalKms.open(kmsFile);
    plainKms.createKey('patients');
    await plainKms.save();
    await writeFile(
      kmsFile,
      await protectKeyFile(await readFile(kmsFile, 'utf8'), { recipients: [key] }),
      { mode: 0o600 },
    );
    const kms = await LocalKms.open(kmsFile, { unlock });
    const { ciphertext } = kms.encrypt('patients', 'Jane Doe');
    kms.createKey('orders');
    await kms.save();
    expect(isProtectedKeyFile(await readFile(kmsFile, 'utf8'))).toBe(true);
    const again = await LocalKms.open(kmsFile, { unlock });
    expect(again.listKeys()).toEqual(['orders', 'patients']);
    expect(again.decrypt('patients', ciphertext).toString()).toBe('Jane Doe');
    await expect(LocalKms.open(kmsFile, { unlock: { env: {} } })).rejects.toMatchObject({
      code: 'ERR_KEY_FILE_LOCKED',
    });
  });
});

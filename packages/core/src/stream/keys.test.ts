import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backupKey,
  decryptFile,
  encryptFile,
  generateBackupIdentity,
  passphraseKey,
  readBackupIdentityFile,
  readBackupKeyFile,
  verifyFile,
  writeBackupIdentityFile,
  x25519Identity,
  x25519Recipient,
} from './index.js';

const CHEAP = { memoryKiB: 19 * 1024, iterations: 2, parallelism: 1 };
const CANARY = 'CANARY-passphrase-7f3a9c';

describe('backup keys: files, passphrases, wrong keys', () => {
  let dir: string;
  let n = 0;
  const file = (name: string) => join(dir, `${n++}-${name}`);
  const leftovers = async () => (await readdir(dir)).filter((f) => f.endsWith('.tmp'));
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-backup-keys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function plaintextFile(bytes = 200_000) {
    const path = file('plain');
    await writeFile(path, randomBytes(bytes));
    return path;
  }

  it('writeBackupIdentityFile writes mode 0600, refuses to replace a file, and reads back', async () => {
    const path = file('id.key');
    const recipient = await writeBackupIdentityFile(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(recipient).toMatch(/^custos-backup-recipient-[A-Za-z0-9_-]{43}$/);
    const [identity] = await readBackupIdentityFile(path);
    expect(identity?.recipient).toBe(recipient);
    await expect(writeBackupIdentityFile(path)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/exists/),
    });
    expect(await leftovers()).toEqual([]);
  });

  it('refuses an identity or key file that others may read, naming the fix', async () => {
    const id = file('id.key');
    await writeBackupIdentityFile(id);
    await chmod(id, 0o644);
    await expect(readBackupIdentityFile(id)).rejects.toMatchObject({
      code: 'ERR_INSECURE_FILE',
      message: expect.stringMatching(/chmod 600/),
    });
    const key = file('backup.key');
    await writeFile(key, randomBytes(32).toString('hex'), { mode: 0o604 });
    await expect(readBackupKeyFile(key)).rejects.toMatchObject({ code: 'ERR_INSECURE_FILE' });
    await chmod(key, 0o600);
    expect((await readBackupKeyFile(key)).keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('reads hex and base64 key files, refuses anything else without echoing it', async () => {
    const material = randomBytes(32);
    const ids = new Set<string>();
    for (const text of [
      material.toString('hex'),
      `${material.toString('base64')}\n`,
      material.toString('base64url'),
    ]) {
      const path = file('backup.key');
      await writeFile(path, text, { mode: 0o600 });
      ids.add((await readBackupKeyFile(path)).keyId);
    }
    expect([...ids]).toEqual([backupKey(material).keyId]);
    const bad = file('backup.key');
    await writeFile(bad, `${CANARY}${'0'.repeat(20)}`, { mode: 0o600 });
    const err = await readBackupKeyFile(bad).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(String((err as Error).message)).not.toContain(CANARY);
    const identity = file('id.key');
    await writeBackupIdentityFile(identity);
    await expect(readBackupKeyFile(identity)).rejects.toMatchObject({
      message: expect.stringMatching(/X25519 identity/),
    });
  });

  it('a wrong key, passphrase or identity: ERR_BACKUP_KEY_MISMATCH, no output, no temporary file', async () => {
    const plain = await plaintextFile();
    const sealed = file('db.cbk');
    const { recipient } = x25519Identity(
      (await import('./x25519.js')).generateBackupIdentity().identity,
    );
    await encryptFile(plain, sealed, {
      recipients: [passphraseKey(CANARY, { parameters: CHEAP }), x25519Recipient(recipient)],
    });
    const other = x25519Identity(generateBackupIdentity().identity);
    for (const identities of [
      [passphraseKey(`${CANARY}x`)],
      [other],
      [backupKey(randomBytes(32))],
    ]) {
      const out = file('out');
      const err = await decryptFile(sealed, out, { identities }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_BACKUP_KEY_MISMATCH' });
      const message = (err as Error).message;
      expect(message).not.toContain(CANARY);
      expect(message).toContain(recipient);
      expect(message).toMatch(/passphrase \(Argon2id/);
      await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    }
    expect(await leftovers()).toEqual([]);
  });

  it('a file tampered after many good chunks leaves no output and no temporary file', async () => {
    const plain = await plaintextFile(1_000_000);
    const key = backupKey(randomBytes(32));
    const sealed = file('db.cbk');
    await encryptFile(plain, sealed, { recipients: [key] });
    const bytes = await readFile(sealed);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 1;
    await writeFile(sealed, bytes);
    const out = file('out');
    await expect(decryptFile(sealed, out, { identities: [key] })).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
    });
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(verifyFile(sealed, { identities: [key] })).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
    });
    expect(await leftovers()).toEqual([]);
  });

  it('an existing output is kept as it was when decryption fails', async () => {
    const plain = await plaintextFile();
    const key = backupKey(randomBytes(32));
    const sealed = file('db.cbk');
    await encryptFile(plain, sealed, { recipients: [key] });
    const out = file('out');
    await writeFile(out, 'previous restore');
    await expect(
      decryptFile(sealed, out, { identities: [backupKey(randomBytes(32))] }),
    ).rejects.toMatchObject({ code: 'ERR_BACKUP_KEY_MISMATCH' });
    expect((await import('node:fs/promises')).readFile(out, 'utf8')).resolves.toBe(
      'previous restore',
    );
  });

  it('refuses weak or absurd passphrase parameters and an empty passphrase', () => {
    for (const parameters of [
      { memoryKiB: 1024, iterations: 3, parallelism: 1 },
      { memoryKiB: 65536, iterations: 1, parallelism: 1 },
      { memoryKiB: 8 * 1024 * 1024, iterations: 3, parallelism: 1 },
      { memoryKiB: 65536, iterations: 3, parallelism: 0 },
    ]) {
      expect(() => passphraseKey('p', { parameters })).toThrow(/Argon2id parameters/);
    }
    expect(() => passphraseKey('')).toThrow(/empty/);
  });
});

/**
 * Protected key files through the real binary: `custos keyring protect|unprotect` and
 * `custos jwt protect|unprotect`, `custos kms protect|unprotect`; every command that takes a keyring or keyset opens a protected
 * one with the CUSTOS_KEY_* variables and writes it back protected; a missing or wrong key is
 * ERR_KEY_FILE_LOCKED with exit 2, the passphrase never echoed.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalKms } from '@custos/core/kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos, type DevServer, startDevServer } from '../test/cli.js';

const BEGIN = '-----BEGIN CUSTOS PROTECTED KEY FILE-----';

describe('protected key files on the command line', { timeout: 90_000 }, () => {
  let dir: string;
  let n = 0;
  const path = (name: string) => join(dir, `${n++}-${name}`);
  const canary = `CANARY-keyfile-pass-${randomBytes(6).toString('hex')}`;
  let passFile: string;
  let keyFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-protect-'));
    passFile = path('pass');
    await writeFile(passFile, `${canary}\n`, { mode: 0o600 });
    keyFile = path('unlock.key');
    await writeFile(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function ok(args: string[], env: NodeJS.ProcessEnv = {}) {
    const result = await custos(args, { env });
    expect(result.code, result.stderr).toBe(0);
    return result;
  }

  it('keyring protect with a passphrase: show, rotate and backup encrypt --keyring open it through CUSTOS_KEY_PASSPHRASE_FILE; it stays protected', async () => {
    const keyring = path('keyring.json');
    await ok(['keyring', 'create', '-o', keyring, '-n', 'backups']);
    await ok(['keyring', 'protect', '-f', keyring, '--passphrase-file', passFile]);
    const text = await readFile(keyring, 'utf8');
    expect(text.startsWith(BEGIN)).toBe(true);
    expect(text).not.toContain('backups');

    const locked = await custos(['keyring', 'show', '-f', keyring]);
    expect(locked.code).toBe(2);
    expect(locked.stderr).toMatch(/is protected and no unlock key was given.*ERR_KEY_FILE_LOCKED/);
    const wrongPass = path('wrong');
    await writeFile(wrongPass, `${canary}-not`, { mode: 0o600 });
    const wrong = await custos(['keyring', 'show', '-f', keyring], {
      env: { CUSTOS_KEY_PASSPHRASE_FILE: wrongPass },
    });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/none of the unlock keys given opens it.*ERR_KEY_FILE_LOCKED/);
    for (const r of [locked, wrong]) expect(r.stderr).not.toContain(canary);

    const env = { CUSTOS_KEY_PASSPHRASE_FILE: passFile };
    expect((await ok(['keyring', 'show', '-f', keyring], env)).stdout).toMatch(/backups/);
    await ok(['keyring', 'rotate', '-f', keyring, '-n', 'backups'], env);
    expect((await readFile(keyring, 'utf8')).startsWith(BEGIN)).toBe(true);
    expect((await ok(['keyring', 'show', '-f', keyring, '--json'], env)).stdout).toMatch(
      /"primaryVersion": 2/,
    );

    const input = path('db.sql');
    await writeFile(input, 'rows');
    const sealed = path('db.cbk');
    await ok(['backup', 'encrypt', input, '-o', sealed, '--keyring', keyring], env);
    const out = path('restored');
    await ok(['backup', 'decrypt', sealed, '--keyring', keyring, '-o', out], env);
    expect(await readFile(out, 'utf8')).toBe('rows');

    const refused = await custos([
      'keyring',
      'unprotect',
      '-f',
      keyring,
      '--passphrase-file',
      wrongPass,
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/ERR_KEY_FILE_LOCKED/);
    expect(refused.stderr).not.toContain(canary);
    expect((await readFile(keyring, 'utf8')).startsWith(BEGIN)).toBe(true);
    await ok(['keyring', 'unprotect', '-f', keyring, '--passphrase-file', passFile]);
    expect(JSON.parse(await readFile(keyring, 'utf8')).custos).toBe('keyring');
  });

  it('jwt protect with a key file: show and rotate open it through CUSTOS_KEY_KEY_FILE and keep it protected', async () => {
    const keyset = path('jwt.json');
    await ok(['keygen', '--jwt', 'EdDSA', '--out', keyset]);
    await ok(['jwt', 'protect', '-f', keyset, '--key-file', keyFile]);
    expect((await readFile(keyset, 'utf8')).startsWith(BEGIN)).toBe(true);
    const env = { CUSTOS_KEY_KEY_FILE: keyFile };
    await ok(['jwt', 'rotate', '-f', keyset, '--grace', '1h'], env);
    expect((await readFile(keyset, 'utf8')).startsWith(BEGIN)).toBe(true);
    const shown = await ok(['jwt', 'show', '-f', keyset, '--json'], env);
    expect(JSON.parse(shown.stdout)).toHaveLength(2);
    const locked = await custos(['jwt', 'jwks', '-f', keyset]);
    expect(locked.code).toBe(2);
    expect(locked.stderr).toMatch(/ERR_KEY_FILE_LOCKED/);
    const again = await custos(['jwt', 'protect', '-f', keyset, '--key-file', keyFile]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/protected already/);
  });

  it('kms protect with a passphrase: the KMS file is wrapped, unprotect gives back the same keys, a non-KMS file is refused untouched', async () => {
    const file = path('kms.json');
    const kms = await LocalKms.open(file);
    kms.createKey('patients');
    const { ciphertext } = kms.encrypt('patients', canary);
    await kms.save();
    await ok(['kms', 'protect', '-f', file, '--passphrase-file', passFile]);
    const text = await readFile(file, 'utf8');
    expect(text.startsWith(BEGIN)).toBe(true);
    expect(text).not.toContain('patients');
    await expect(LocalKms.open(file)).rejects.toMatchObject({ code: 'ERR_KEY_FILE_LOCKED' });

    const again = await custos(['kms', 'protect', '-f', file, '--passphrase-file', passFile]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/protected already/);
    await ok(['kms', 'unprotect', '-f', file, '--passphrase-file', passFile]);
    const reopened = await LocalKms.open(file);
    expect(reopened.listKeys()).toEqual(['patients']);
    expect(reopened.decrypt('patients', ciphertext).toString()).toBe(canary);

    const keyring = path('keyring.json');
    await ok(['keyring', 'create', '-o', keyring]);
    const before = await readFile(keyring, 'utf8');
    const refused = await custos(['kms', 'protect', '-f', keyring, '--key-file', keyFile]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is not a custos KMS file.*ERR_MALFORMED_KEYRING/);
    expect(await readFile(keyring, 'utf8')).toBe(before);
  });

  it('backup keygen --passphrase-file writes a protected identity; decrypt opens it through CUSTOS_KEY_PASSPHRASE_FILE', async () => {
    const identity = path('id.key');
    const made = await ok(['backup', 'keygen', '--out', identity, '--passphrase-file', passFile]);
    const recipient = made.stdout.trim();
    expect((await readFile(identity, 'utf8')).startsWith(BEGIN)).toBe(true);
    const input = path('db.sql');
    await writeFile(input, 'rows');
    const sealed = path('db.cbk');
    await ok(['backup', 'encrypt', input, '-o', sealed, '-r', recipient]);
    const out = path('out');
    const locked = await custos(['backup', 'decrypt', sealed, '-i', identity, '-o', out]);
    expect(locked.code).toBe(2);
    expect(locked.stderr).toMatch(/ERR_KEY_FILE_LOCKED/);
    const env = { CUSTOS_KEY_PASSPHRASE_FILE: passFile, CUSTOS_KEY_IDENTITY: identity };
    await ok(['backup', 'decrypt', sealed, '-i', identity, '-o', out], env);
    expect(await readFile(out, 'utf8')).toBe('rows');
  });

  it('protect refuses a file that is not a keyring, leaving it as it was', async () => {
    const notKeyring = path('x.json');
    await writeFile(notKeyring, '{"custos":"nope"}', { mode: 0o600 });
    const result = await custos(['keyring', 'protect', '-f', notKeyring, '--key-file', keyFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ERR_MALFORMED_KEYRING/);
    expect(await readFile(notKeyring, 'utf8')).toBe('{"custos":"nope"}');
  });
  it('env check warns about unprotected key files in production only, and not about protected ones', async () => {
    const project = join(dir, 'project');
    const plainKeyring = join(project, 'keyring.json');
    await mkdir(project, { recursive: true });
    await ok(['keyring', 'create', '-o', plainKeyring]);
    const sealedKeyring = join(project, 'sealed.json');
    await ok(['keyring', 'create', '-o', sealedKeyring]);
    await ok(['keyring', 'protect', '-f', sealedKeyring, '--key-file', keyFile]);
    const production = await custos([
      'env',
      'check',
      '--dir',
      project,
      '--environment',
      'production',
    ]);
    expect(production.stdout).toMatch(
      /! .*keyring\.json: keyring file stored unprotected; in production wrap it \(custos keyring protect/,
    );
    expect(production.stdout).not.toMatch(/sealed\.json/);
    const development = await custos(['env', 'check', '--dir', project], {
      env: { NODE_ENV: 'development' },
    });
    expect(development.stdout).not.toMatch(/unprotected/);
  });
  describe('a keyring protected by a transit key on a custos server', () => {
    const token = `root-${randomBytes(8).toString('hex')}`;
    let server: DevServer;
    beforeAll(async () => {
      server = await startDevServer(token);
      const response = await fetch(`${server.url}/v1/transit/keys/keyfiles`, {
        method: 'POST',
        headers: { 'x-vault-token': token, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status).toBeLessThan(300);
    }, 30_000);
    afterAll(async () => {
      await server?.stop();
    });

    it('opens through CUSTOS_ADDR and CUSTOS_TOKEN; a bad token is refused without echoing it', async () => {
      const keyring = path('keyring.json');
      const env = { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: token };
      await ok(['keyring', 'create', '-o', keyring]);
      await ok(['keyring', 'protect', '-f', keyring, '--transit-key', 'keyfiles'], env);
      expect((await readFile(keyring, 'utf8')).startsWith(BEGIN)).toBe(true);
      expect((await ok(['keyring', 'show', '-f', keyring], env)).stdout).toMatch(/default/);
      const denied = await custos(['keyring', 'show', '-f', keyring], {
        env: { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: 'not-a-token' },
      });
      expect(denied.code).toBe(2);
      expect(denied.stderr).toMatch(/ERR_KMS_REMOTE/);
      expect(denied.stderr).not.toContain(token);
    });
  });
});

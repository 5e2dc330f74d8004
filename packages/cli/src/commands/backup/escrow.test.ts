/**
 * `custos backup escrow export|import` through the real binary: a keyring (protected or not)
 * and other key files bundled into one backup, opened again with a key file or with Shamir
 * shares (--split), a transit key backup fetched from a real `custos server --dev`, and a
 * crafted bundle whose entry names try to leave the output directory, refused.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos, type DevServer, startDevServer } from '../../../test/cli.js';

describe('custos backup escrow', { timeout: 60_000 }, () => {
  let dir: string;
  let n = 0;
  const path = (name: string) => join(dir, `${n++}-${name}`);
  let keyFile: string;
  let keyring: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-escrow-'));
    keyFile = path('escrow.key');
    await writeFile(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    keyring = join(dir, 'keyring.json');
    const created = await custos(['keyring', 'create', '-o', keyring]);
    expect(created.code, created.stderr).toBe(0);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exports a keyring (opened from its protected form) and a key file; imports them byte for byte, mode 0600', async () => {
    const plainText = await readFile(keyring, 'utf8');
    const protectedKeyring = join(dir, 'protected-keyring.json');
    await writeFile(protectedKeyring, plainText, { mode: 0o600 });
    const unlock = path('unlock.key');
    await writeFile(unlock, randomBytes(32).toString('hex'), { mode: 0o600 });
    expect(
      (await custos(['keyring', 'protect', '-f', protectedKeyring, '--key-file', unlock])).code,
    ).toBe(0);
    const extra = join(dir, 'env-keys');
    await writeFile(extra, 'CUSTOS_ENV_KEY=abc\n', { mode: 0o600 });
    const escrow = path('escrow.cbk');
    const exported = await custos(
      [
        'backup',
        'escrow',
        'export',
        '-o',
        escrow,
        '--escrow-keyring',
        protectedKeyring,
        '--file',
        extra,
        '--key-file',
        keyFile,
      ],
      { env: { CUSTOS_KEY_KEY_FILE: unlock } },
    );
    expect(exported.code, exported.stderr).toBe(0);
    expect((await readFile(escrow)).subarray(0, 8).toString()).toBe('CUSTOSBK');
    const listed = await custos([
      'backup',
      'escrow',
      'import',
      escrow,
      '--key-file',
      keyFile,
      '--list',
    ]);
    expect(listed.stdout).toMatch(
      /protected-keyring\.json \(keyring, \d+ bytes\)\n {2}env-keys \(file, 19 bytes\)/,
    );
    const out = path('restored');
    const imported = await custos([
      'backup',
      'escrow',
      'import',
      escrow,
      '--key-file',
      keyFile,
      '--out-dir',
      out,
    ]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(await readFile(join(out, 'protected-keyring.json'), 'utf8')).toBe(plainText);
    expect((await stat(join(out, 'env-keys'))).mode & 0o777).toBe(0o600);
    const again = await custos([
      'backup',
      'escrow',
      'import',
      escrow,
      '--key-file',
      keyFile,
      '--out-dir',
      out,
    ]);
    expect(again.code).toBe(2);
  });

  it('--split 2/3 writes shares; any two open the escrow, one is too few, and nothing is written then', async () => {
    const escrow = path('escrow.cbk');
    const shares = path('shares');
    const exported = await custos([
      'backup',
      'escrow',
      'export',
      '-o',
      escrow,
      '--escrow-keyring',
      keyring,
      '--split',
      '2/3',
      '--shares-dir',
      shares,
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    const files = (await readdir(shares)).sort().map((f) => join(shares, f));
    expect(files).toHaveLength(3);
    const out = path('restored');
    const one = await custos([
      'backup',
      'escrow',
      'import',
      escrow,
      '--share',
      files[0] as string,
      '--out-dir',
      out,
    ]);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/ERR_SHARES_TOO_FEW/);
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    const two = await custos([
      'backup',
      'escrow',
      'import',
      escrow,
      '--share',
      files[2] as string,
      '--share',
      files[0] as string,
      '--out-dir',
      out,
    ]);
    expect(two.code, two.stderr).toBe(0);
    expect(await readFile(join(out, 'keyring.json'), 'utf8')).toBe(await readFile(keyring, 'utf8'));
  });

  it('a bundle whose entry name leaves the directory is refused before anything is written', async () => {
    const bundle = path('bundle.json');
    await writeFile(
      bundle,
      JSON.stringify({
        custos: 'escrow',
        formatVersion: 1,
        createdAt: '2026-01-01T00:00:00Z',
        entries: [
          { name: 'ok.json', kind: 'file', content: 'x' },
          { name: '../escaped', kind: 'file', content: 'x' },
        ],
      }),
    );
    const escrow = path('evil.cbk');
    expect(
      (await custos(['backup', 'encrypt', bundle, '-o', escrow, '--key-file', keyFile])).code,
    ).toBe(0);
    const out = path('restored');
    const result = await custos([
      'backup',
      'escrow',
      'import',
      escrow,
      '--key-file',
      keyFile,
      '--out-dir',
      out,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/"\.\.\/escaped" is not a plain file name/);
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(dir, 'escaped'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  describe('transit key backups from a custos server', () => {
    const token = `root-${randomBytes(8).toString('hex')}`;
    let server: DevServer;
    beforeAll(async () => {
      server = await startDevServer(token);
      const headers = { 'x-vault-token': token, 'content-type': 'application/json' };
      const create = await fetch(`${server.url}/v1/transit/keys/orders`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ exportable: true, allow_plaintext_backup: true }),
      });
      expect(create.status).toBeLessThan(300);
    }, 30_000);
    afterAll(async () => {
      await server?.stop();
    });

    it('--transit-backup escrows the backup the server gives', async () => {
      const escrow = path('escrow.cbk');
      const env = { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: token };
      const exported = await custos(
        [
          'backup',
          'escrow',
          'export',
          '-o',
          escrow,
          '--transit-backup',
          'orders',
          '--key-file',
          keyFile,
        ],
        { env },
      );
      expect(exported.code, exported.stderr).toBe(0);
      const out = path('restored');
      const imported = await custos([
        'backup',
        'escrow',
        'import',
        escrow,
        '--key-file',
        keyFile,
        '--out-dir',
        out,
      ]);
      expect(imported.code, imported.stderr).toBe(0);
      const backup = await readFile(join(out, 'transit-orders.backup'), 'utf8');
      expect(backup.length).toBeGreaterThan(40);
      const restore = await fetch(`${server.url}/v1/transit/restore/orders-copy`, {
        method: 'POST',
        headers: { 'x-vault-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ backup }),
      });
      expect(restore.status).toBeLessThan(300);
    });
  });
});

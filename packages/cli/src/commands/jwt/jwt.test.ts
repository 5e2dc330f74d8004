import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasValidApiKeyChecksum } from '@custos/core/api-keys';
import { loadJwtKeyset } from '@custos/core/tokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

function run(...args: string[]) {
  return custos(args, { env: { CUSTOS_DEBUG: '' } });
}

describe('custos keygen --jwt / --api-key and custos jwt', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-jwt-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints a loadable keyset, or writes it with mode 0600', async () => {
    const printed = await run('keygen', '--jwt', 'RS256');
    expect(printed.code).toBe(0);
    const keyset = await loadJwtKeyset(printed.stdout);
    expect(keyset.current.algorithm).toBe('RS256');

    const file = join(dir, 'jwt-keys.json');
    const created = await run('keygen', '--jwt', 'ES256', '--out', file);
    expect(created).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/mode 0600\): ES256 key/),
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await run('keygen', '--jwt', 'ES256', '--out', file)).stderr).toMatch(/--force/);
  });

  it('rotates with a grace window, shows and publishes without key material', async () => {
    const file = join(dir, 'rotate.json');
    await run('keygen', '--jwt', 'EdDSA', '--out', file);
    const before = await loadJwtKeyset(await readFile(file, 'utf8'));
    const rotated = await run(
      'jwt',
      'rotate',
      '--file',
      file,
      '--grace',
      // The one duration grammar: compound values as the server reads them.
      '1d12h',
      '--algorithm',
      'ES256',
    );
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain(`${before.current.kid} verifies until`);
    const after = await loadJwtKeyset(await readFile(file, 'utf8'));
    expect(after.current.algorithm).toBe('ES256');
    const previous = after.keys[1];
    expect(previous).toMatchObject({ kid: before.current.kid, status: 'previous' });
    const graceMs =
      Date.parse(previous?.verifyUntil as string) - Date.parse(after.current.createdAt);
    expect(graceMs).toBe(36 * 3600 * 1000);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const privateParts = JSON.parse(await readFile(file, 'utf8')).keys.map(
      (k: { jwk: { d: string } }) => k.jwk.d,
    );
    for (const command of [['show'], ['show', '--json'], ['jwks']]) {
      const shown = await run('jwt', ...(command as [string]), '--file', file);
      expect(shown.code).toBe(0);
      for (const d of privateParts) expect(shown.stdout).not.toContain(d);
    }
    const jwks = JSON.parse((await run('jwt', 'jwks', '--file', file)).stdout);
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([
      after.current.kid,
      before.current.kid,
    ]);
  });

  it('prints an API key with a valid checksum', async () => {
    const { code, stdout } = await run('keygen', '--api-key', 'acme_admin');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^acme_admin_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}\n$/);
    expect(hasValidApiKeyChecksum(stdout.trim())).toBe(true);
  });

  it('exits 2 on usage errors', async () => {
    expect((await run('keygen', '--jwt', 'none')).code).toBe(2);
    expect((await run('keygen', '--jwt', 'HS256', '--api-key', 'x')).code).toBe(2);
    expect((await run('keygen', '--api-key', 'Not-Valid')).code).toBe(2);
    expect((await run('jwt', 'rotate')).code).toBe(2);
    const badGrace = await run(
      'jwt',
      'rotate',
      '--file',
      join(dir, 'jwt-keys.json'),
      '--grace',
      'soon',
    );
    expect(badGrace).toMatchObject({ code: 2, stderr: expect.stringMatching(/--grace .*48h/) });
    const missing = await run('jwt', 'show', '--file', join(dir, 'missing.json'));
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/does not exist/) });
    // A previous key with no end to its grace window would verify forever: refused on load.
    const openEnded = join(dir, 'open-ended.json');
    await run('keygen', '--jwt', 'HS256', '--out', openEnded);
    await run('jwt', 'rotate', '--file', openEnded);
    const json = JSON.parse(await readFile(openEnded, 'utf8'));
    delete json.keys[1].verifyUntil;
    await writeFile(openEnded, JSON.stringify(json), { mode: 0o600 });
    for (const command of ['show', 'jwks', 'rotate']) {
      expect(await run('jwt', command, '--file', openEnded), command).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/keys\[1\]\.verifyUntil is missing/),
      });
    }
  });
});

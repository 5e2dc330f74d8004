import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const printHash = (name: string) =>
  `const v = process.env.${name}; console.log(v === undefined ? 'unset' : require('node:crypto').createHash('sha256').update(v).digest('hex'));`;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'custos-backend-cli-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('SECRETS_BACKEND in custos run and custos validate', () => {
  it('reads only the backend it names', async () => {
    const cwd = join(root, 'files');
    const secrets = join(cwd, 'secrets');
    await mkdir(secrets, { recursive: true });
    const token = randomBytes(24).toString('base64url');
    await writeFile(join(secrets, 'API_TOKEN'), token, { mode: 0o600 });
    await writeFile(join(cwd, '.env.example'), 'API_TOKEN=\n');
    await writeFile(join(cwd, '.env'), 'API_TOKEN=from-the-env-file\n', { mode: 0o600 });
    const env = { SECRETS_BACKEND: 'files', SECRETS_DIR: secrets, NODE_ENV: 'development' };
    const ran = await custos(['run', '--', process.execPath, '-e', printHash('API_TOKEN')], {
      cwd,
      env,
    });
    expect(ran).toMatchObject({ code: 0, stdout: `${sha256(token)}\n` });
    const validated = await custos(['validate'], { cwd, env });
    expect(validated.code).toBe(0);
    // An AppRole secret id of SECRETS_BACKEND=custos|vault is custos's, not the command's.
    for (const name of ['VAULT_SECRET_ID', 'CUSTOS_SECRET_ID']) {
      const kept = await custos(['run', '--', process.execPath, '-e', printHash(name)], {
        cwd,
        env: { ...env, [name]: randomBytes(8).toString('hex') },
      });
      expect(kept, name).toMatchObject({ code: 0, stdout: 'unset\n' });
    }
  });

  it('names the missing setting and refuses an unknown backend', async () => {
    const cwd = join(root, 'missing');
    await mkdir(cwd, { recursive: true });
    const vault = await custos(['validate'], {
      cwd,
      env: { SECRETS_BACKEND: 'vault', VAULT_ADDR: 'https://vault.test:8200' },
    });
    expect(vault.code).not.toBe(0);
    expect(vault.stderr).toContain('VAULT_PATH');
    const unknown = await custos(['run', '--', process.execPath, '-e', '1'], {
      cwd,
      env: { SECRETS_BACKEND: 'parameter-store' },
    });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('SECRETS_BACKEND');
  });
});

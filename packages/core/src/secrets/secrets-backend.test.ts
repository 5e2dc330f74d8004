import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.js';
import { createSecrets } from './client.js';
import { checkEnvironment } from './environment.js';
import { backendProviders } from './secrets-backend.js';

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (err) {
    return isCustosError(err) ? { code: err.code, message: err.message } : { message: String(err) };
  }
  throw new Error('no refusal');
};

describe('SECRETS_BACKEND', () => {
  let dir: string;
  const fileValue = `file-${randomBytes(8).toString('hex')}`;
  const dotenvValue = `dotenv-${randomBytes(8).toString('hex')}`;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-backend-'));
    await writeFile(join(dir, 'API_TOKEN'), `${fileValue}\n`);
    await writeFile(join(dir, '.env'), `API_TOKEN=${dotenvValue}\nLOG_LEVEL=info\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is not set: the caller keeps its default', () => {
    expect(backendProviders({ env: {} })).toBeUndefined();
    expect(backendProviders({ env: { SECRETS_BACKEND: ' ' } })).toBeUndefined();
  });

  it('builds the chain it names, first provider winning', async () => {
    const env = { SECRETS_BACKEND: 'files,dotenv,env', SECRETS_DIR: dir, API_TOKEN: 'from-env' };
    const providers = backendProviders({ env, directory: dir, environment: 'development' });
    expect(providers?.map((p) => p.name)).toEqual(['files', 'dotenv', 'env']);
    expect(await providers?.[0]?.get('API_TOKEN')).toBe(fileValue);
    expect(await providers?.[1]?.get('API_TOKEN')).toBe(dotenvValue);
    expect(await providers?.[2]?.get('API_TOKEN')).toBe('from-env');
  });

  it('names the missing setting of each remote backend, and an unknown backend', () => {
    expect(refusal(() => backendProviders({ env: { SECRETS_BACKEND: 'vault' } }))).toEqual({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringContaining('VAULT_ADDR'),
    });
    const vault = { SECRETS_BACKEND: 'vault', VAULT_ADDR: 'https://vault.test:8200' };
    expect(refusal(() => backendProviders({ env: vault })).message).toContain('VAULT_PATH');
    expect(
      refusal(() => backendProviders({ env: { ...vault, VAULT_PATH: 'secret' } })).message,
    ).toContain('<mount>/<path>');
    expect(
      refusal(() => backendProviders({ env: { ...vault, VAULT_PATH: 'secret/app' } })).message,
    ).toContain('VAULT_TOKEN');
    const custos = { SECRETS_BACKEND: 'custos', CUSTOS_ADDR: 'https://custos.test' };
    expect(
      refusal(() =>
        backendProviders({ env: { ...custos, CUSTOS_PATH: 'secret/app', CUSTOS_ROLE_ID: 'r' } }),
      ).message,
    ).toContain('CUSTOS_SECRET_ID');
    expect(
      refusal(() => backendProviders({ env: { SECRETS_BACKEND: 'aws-secrets-manager' } })).message,
    ).toContain('AWS_SECRETS_PREFIX');
    expect(
      refusal(() =>
        backendProviders({ env: { SECRETS_BACKEND: 'aws', AWS_SECRETS_PREFIX: 'app/' } }),
      ).message,
    ).toContain('AWS_REGION');
    const unknown = refusal(() => backendProviders({ env: { SECRETS_BACKEND: 'ssm' } }));
    expect(unknown.code).toBe('ERR_INVALID_ARGUMENT');
    expect(unknown.message).toContain('env, files, dotenv, custos, vault, aws');
    const token = `tok-${randomBytes(8).toString('hex')}`;
    const withToken = refusal(() =>
      backendProviders({ env: { SECRETS_BACKEND: 'vault', VAULT_TOKEN: token } }),
    );
    expect(withToken.message).not.toContain(token);
  });

  it('builds the providers of custos, vault and aws when their settings are there', () => {
    const providers = backendProviders({
      env: {
        SECRETS_BACKEND: 'custos,vault,aws',
        CUSTOS_ADDR: 'https://custos.test',
        CUSTOS_PATH: 'secret/app/production',
        CUSTOS_TOKEN: 'x',
        VAULT_ADDR: 'https://vault.test',
        VAULT_PATH: 'kv/takumi/production',
        VAULT_ROLE_ID: 'r',
        VAULT_SECRET_ID: 's',
        AWS_SECRETS_PREFIX: 'takumi/production/',
        AWS_REGION: 'us-east-1',
      },
    });
    expect(providers?.map((p) => p.name)).toEqual([
      'kv:secret/app/production',
      'kv:kv/takumi/production',
      'aws:takumi/production/*',
    ]);
  });

  it("is the library's default loader: createSecrets() without providers reads the chain it names", async () => {
    const saved = { backend: process.env.SECRETS_BACKEND, dir: process.env.SECRETS_DIR };
    process.env.SECRETS_BACKEND = 'files';
    process.env.SECRETS_DIR = dir;
    try {
      const secrets = createSecrets({ environment: 'production', onWarning: () => undefined });
      expect((await secrets.getRequiredSecret('API_TOKEN')).reveal()).toBe(fileValue);
      expect(await secrets.getOptionalSecret('LOG_LEVEL')).toBeUndefined();
      secrets.close();
      process.env.SECRETS_BACKEND = 'env';
      // The process environment alone is refused in production, as without SECRETS_BACKEND.
      expect(() => createSecrets({ environment: 'production' })).toThrow(/process environment/);
    } finally {
      for (const [name, value] of [
        ['SECRETS_BACKEND', saved.backend],
        ['SECRETS_DIR', saved.dir],
      ] as const)
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    }
  });

  it('selects what custos validate and custos run read (checkEnvironment)', async () => {
    const report = await checkEnvironment({
      directory: dir,
      environment: 'production',
      env: { SECRETS_BACKEND: 'files', SECRETS_DIR: dir, API_TOKEN: 'ignored' },
    });
    // Only the secret files are read: not the .env file, not the process environment.
    expect(report.variables.get('API_TOKEN')?.reveal()).toBe(fileValue);
    expect(report.variables.has('LOG_LEVEL')).toBe(false);
    const refused = await checkEnvironment({
      directory: dir,
      environment: 'production',
      env: { SECRETS_BACKEND: 'env', API_TOKEN: 'x' },
    }).catch((err: unknown) => err);
    expect(isCustosError(refused) && refused.code).toBe('ERR_INSECURE_PROVIDER');
  });
});

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, custos } from '../../../test/cli.js';

/**
 * Planted values in every place configuration comes from. Whatever fails — weak values,
 * placeholders, wrong encodings, unreadable encrypted values, a command that cannot start,
 * bad flags — no output of the CLI (stdout or stderr, stacks included with CUSTOS_DEBUG=1)
 * may contain one.
 */
const CANARIES = {
  JWT_SECRET: 'CANARY-jwt-7f3a',
  DB_PASSWORD: 'your_CANARY-db-password_here',
  ADMIN_API_KEY: 'CANARY-admin-not-hex-9c1e-but-quite-long-indeed-0123456789',
  STRIPE_SECRET_KEY: 'sk_test_CANARY5b8d2f4a6c0e9b1d3f',
  STORAGE_TYPE: 'CANARY-storage-4e6a',
  GOOD_TOKEN: 'CANARY-good-Zq8nV2wL5pR9xk3MZq8nV2wL5pR9xk3M',
  FROM_PROCESS_ENV: 'CANARY-processenv-8d0b-Zq8nV2wL5pR9xk3M',
  FILE_SECRET: 'CANARY-file-2a4c-Zq8nV2wL5pR9xk3MZq8nV2wL',
} as const;

let root: string;
const results: CliResult[] = [];
const debug = { CUSTOS_DEBUG: '1', FROM_PROCESS_ENV: CANARIES.FROM_PROCESS_ENV };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'custos-cli-canary-'));
  const lines = Object.entries(CANARIES)
    .filter(([name]) => name !== 'FROM_PROCESS_ENV' && name !== 'FILE_SECRET')
    .map(([name, value]) => `${name}=${value}`);
  await writeFile(join(root, '.env'), `${lines.join('\n')}\n`, { mode: 0o644 });
  await writeFile(join(root, '.env.example'), `${Object.keys(CANARIES).join('=\n')}=\nMISSING=\n`);
  await mkdir(join(root, 'secrets'));
  await writeFile(join(root, 'secrets', 'FILE_SECRET'), `${CANARIES.FILE_SECRET}\n`, {
    mode: 0o644,
  });
  await writeFile(
    join(root, 'schema.json'),
    JSON.stringify({
      variables: {
        ADMIN_API_KEY: { encoding: 'hex', minBytes: 32 },
        STORAGE_TYPE: { sensitive: false, oneOf: ['ipfs', 'arweave'] },
        GOOD_TOKEN: { minBytes: 64 },
        FILE_SECRET: { encoding: 'base64' },
      },
    }),
  );
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<CliResult> {
  const result = await custos(args, { cwd: root, env: debug });
  results.push(result);
  return result;
}

describe('CLI canary', () => {
  it('validate, in every environment and format, with and without a schema', async () => {
    for (const environment of ['production', 'development']) {
      const common = ['--environment', environment, '--secrets-dir', 'secrets'];
      expect((await run('validate', ...common)).code).toBe(1);
      expect((await run('validate', ...common, '--json')).code).toBe(1);
      expect((await run('validate', ...common, '--schema', 'schema.json')).code).toBe(1);
      expect((await run('validate', ...common, '--allow-process-env')).code).toBe(1);
    }
  });

  it('run, refusing to start, or failing to start its command', async () => {
    expect((await run('run', '--environment', 'production', '--', 'true')).code).toBe(1);
    const missing = await run('run', '--schema', 'schema.json', '--', 'custos-no-such-cmd');
    expect(missing.code).toBe(1);
    await writeFile(join(root, 'ok.json'), '{"variables": {"GOOD_TOKEN": {}}}');
    expect((await run('run', '--schema', 'ok.json', '--', 'custos-no-such-cmd')).code).toBe(2);
  });

  it('env check, encrypt and decrypt failures, unreadable encrypted values', async () => {
    expect((await run('env', 'check')).code).toBe(1);
    await writeFile(join(root, '.env.staging'), `GOOD_TOKEN=${CANARIES.GOOD_TOKEN}\n`, {
      mode: 0o600,
    });
    expect((await run('env', 'encrypt', '.env.staging')).code).toBe(0);
    await rm(join(root, '.env.keys'));
    expect((await run('env', 'decrypt', '.env.staging')).code).toBe(2);
    expect((await run('validate', '--environment', 'staging')).code).toBe(1);
    expect((await run('env', 'encrypt', '--rotate', '.env.staging')).code).toBe(2);
  });

  it('usage errors', async () => {
    expect((await run('validate', '--schema', '.env')).code).toBe(2);
    expect((await run('validate', '--example', 'absent')).code).toBe(2);
    expect((await run('run', '--bogus')).code).toBe(2);
  });

  it('none of the planted values appears in any output', () => {
    expect(results.length).toBeGreaterThan(15);
    const everything = results.map((r) => `${r.stdout}\n${r.stderr}`).join('\n');
    expect(everything).toContain('JWT_SECRET');
    for (const canary of Object.values(CANARIES)) expect(everything).not.toContain(canary);
  });
});

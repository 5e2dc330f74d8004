import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../test/fixtures/validate/${name}`, import.meta.url));
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const b64 = (bytes: number) => randomBytes(bytes).toString('base64');

/** A configuration that satisfies seed 004 in production. */
function goodEnv(): string {
  return [
    'DB_HOST=db.internal',
    'DB_PORT=5432',
    `DB_PASSWORD=${b64(18)}`,
    `REDIS_PASSWORD=${b64(18)}`,
    `JWT_SECRET=${b64(48)}`,
    `JWT_REFRESH_SECRET=${b64(48)}`,
    `ADMIN_API_KEY=${hex(32)}`,
    'EMAIL_ENABLED=false',
    'STORAGE_TYPE=ipfs',
    'IPFS_HOST=ipfs.infura.io',
    'IPFS_PROJECT_ID=2FHd8sXqLm',
    `IPFS_PROJECT_SECRET=${b64(24)}`,
    '',
  ].join('\n');
}

let root: string;
let counter = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'custos-validate-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function project(files: Record<string, string>, example = true): Promise<string> {
  const path = join(root, `p${counter++}`);
  await mkdir(path);
  if (example) await copyFile(fixture('seed-004.env.example'), join(path, '.env.example'));
  for (const [file, text] of Object.entries(files)) {
    await writeFile(join(path, file), text, { mode: 0o600 });
  }
  return path;
}

describe('custos validate', () => {
  it('exits 0 when every variable of .env.example is set and strong', async () => {
    const cwd = await project({ '.env.production': goodEnv() });
    const result = await custos(['validate', '--environment', 'production'], { cwd });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(
      `custos: production, 17 variables checked against ${join(cwd, '.env.example')}\nok (0 warnings)\n`,
    );
  });

  it('exits 1 listing every problem, never a value', async () => {
    const weak = 'Zq8nV2wL5pR9';
    const env = goodEnv()
      .replace(/^JWT_SECRET=.*$/m, `JWT_SECRET=${weak}`)
      .replace(/^DB_PASSWORD=.*$/m, 'DB_PASSWORD=your_secure_database_password')
      .replace(/^REDIS_PASSWORD=.*$/m, 'REDIS_PASSWORD=changeme')
      .replace(/^EMAIL_ENABLED=.*$/m, 'EMAIL_ENABLED=true')
      .replace(/^STORAGE_TYPE=.*$/m, 'STORAGE_TYPE=both');
    const cwd = await project({ '.env': env });
    const result = await custos(['validate', '--environment', 'production'], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n').slice(1, -2)).toEqual([
      '  ✗ DB_PASSWORD: placeholder value left from an example or template',
      '  ✗ REDIS_PASSWORD: placeholder value left from an example or template',
      '  ✗ JWT_SECRET: too short: 12 of 32 bytes',
      '  ✗ SMTP_HOST: missing (required when EMAIL_ENABLED=true)',
      '  ✗ SMTP_USER: missing (required when EMAIL_ENABLED=true)',
      '  ✗ SMTP_PASS: missing (required when EMAIL_ENABLED=true)',
      '  ✗ ARWEAVE_HOST: missing (required when STORAGE_TYPE=arweave|both)',
      '  ✗ ARWEAVE_WALLET_KEY: missing (required when STORAGE_TYPE=arweave|both)',
    ]);
    expect(result.stdout).toMatch(/8 problems, 0 warnings\n$/);
    expect(result.stdout).not.toContain(weak);

    const development = await custos(['validate', '--environment', 'development'], { cwd });
    expect(development.code).toBe(1); // missing variables fail everywhere
    expect(development.stdout).toContain('  ! JWT_SECRET: too short: 12 of 32 bytes');
    expect(development.stdout).toMatch(/5 problems, 3 warnings\n$/);
  });

  it('uses a schema module or a JSON schema file', async () => {
    const env = goodEnv().replace(/^ADMIN_API_KEY=.*$/m, `ADMIN_API_KEY=${b64(32)}+`);
    const cwd = await project({ '.env.production': env }, false);
    for (const schema of ['seed-004.schema.mjs', 'seed-004.schema.json']) {
      const result = await custos(
        ['validate', '--environment', 'production', '--schema', fixture(schema)],
        { cwd },
      );
      expect(result.code, schema).toBe(1);
      expect(result.stdout).toContain('16 variables checked against schema');
      expect(result.stdout).toContain('  ✗ ADMIN_API_KEY: wrong encoding: expected hex');
    }
  });

  it('reads explicit env files in order, later ones winning', async () => {
    const cwd = await project({
      'base.env': goodEnv().replace(/^JWT_SECRET=.*$/m, 'JWT_SECRET=short'),
      'override.env': `JWT_SECRET=${b64(40)}\n`,
    });
    const args = ['validate', '--environment', 'production', '-e', 'base.env'];
    expect((await custos(args, { cwd })).code).toBe(1);
    expect((await custos([...args, '-e', 'override.env'], { cwd })).code).toBe(0);
  });

  it('prints JSON with --json', async () => {
    const cwd = await project({ '.env.production': goodEnv().replace(/^DB_HOST=.*\n/m, '') });
    const result = await custos(['validate', '--environment', 'production', '--json'], { cwd });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      environment: 'production',
      problems: [{ name: 'DB_HOST', kind: 'missing', detail: 'missing' }],
      warnings: [],
    });
  });

  it('exits 2 when there is nothing to validate, and says when nothing is known to be required', async () => {
    const empty = await project({}, false);
    const vacuous = await custos(['validate', '--environment', 'production'], { cwd: empty });
    expect(vacuous).toMatchObject({ code: 2, stdout: '' });
    expect(vacuous.stderr).toMatch(
      /^custos: nothing to validate: no schema .*\[ERR_INVALID_ARGUMENT\]\n$/,
    );
    const definedOnly = await project({ '.env.production': goodEnv() }, false);
    const partial = await custos(['validate', '--environment', 'production'], {
      cwd: definedOnly,
    });
    expect(partial.code).toBe(0);
    expect(partial.stdout).toContain(
      '  note: no schema or example file: only the values the env files define were checked; nothing is known to be required\n',
    );
  });

  it('exits 2 on usage errors: a missing example or schema, a broken schema', async () => {
    const cwd = await project({}, false);
    const missingExample = await custos(['validate', '--example', 'nope.example'], { cwd });
    expect(missingExample).toMatchObject({ code: 2 });
    expect(missingExample.stderr).toMatch(/example file .*nope\.example does not exist/);
    const missingSchema = await custos(['validate', '--schema', 'nope.json'], { cwd });
    expect(missingSchema.code).toBe(2);
    expect(missingSchema.stderr).toMatch(/\[ERR_INVALID_SCHEMA\]/);
    await writeFile(join(cwd, 'bad.json'), '{"variables": {"A": {"minBytes": "lots"}}}');
    const bad = await custos(['validate', '--schema', 'bad.json'], { cwd });
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('A: minBytes') });
    expect((await custos(['validate', '--no-such-flag'], { cwd })).code).toBe(2);
    const typo = await custos(['validate', '-e', '.env.prodution'], { cwd });
    expect(typo).toMatchObject({
      code: 2,
      stderr: 'custos: env file .env.prodution does not exist [ERR_INVALID_ARGUMENT]\n',
    });
  });
});

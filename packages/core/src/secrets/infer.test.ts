import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExample } from './example-file.js';
import { inferSchema, secretKindOfName } from './infer.js';
import { defineSecrets, secret } from './schema.js';
import { loadSchemaFile, schemaFromJson } from './schema-file.js';

describe('secretKindOfName', () => {
  it.each([
    ['DB_PASSWORD', 'password'],
    ['SMTP_PASS', 'password'],
    ['GRAFANA_ADMIN_PASSWORD', 'password'],
    ['DBPASSWORD', 'password'],
    ['JWT_SECRET', 'key'],
    ['JWT_REFRESH_SECRET_PREVIOUS', 'key'],
    ['ENCRYPTION_KEY', 'key'],
    ['AWS_SECRET_ACCESS_KEY', 'key'],
    ['ADMIN_API_KEY', 'key'],
    ['PRIVATE_KEY', 'key'],
    ['STRIPE_SECRET_KEY', 'key'],
    ['TWILIO_AUTH_TOKEN', 'token'],
    ['GOOGLE_CREDENTIALS', 'token'],
    ['VAULT_TOKEN', 'token'],
  ])('%s is a %s', (name, kind) => {
    expect(secretKindOfName(name)).toBe(kind);
  });

  it.each([
    'AWS_ACCESS_KEY_ID',
    'IPFS_PROJECT_ID',
    'SMTP_USER',
    'SMTP_HOST',
    'DB_PORT',
    'EMAIL_ENABLED',
    'JWT_SECRET_FILE',
    'SSH_AUTH_SOCK',
    'MONKEY_COUNT',
    'BYPASS_CACHE',
    'AUTHOR',
    'DATABASE_URL',
    'NODE_ENV',
  ])('%s is not a secret', (name) => {
    expect(secretKindOfName(name)).toBeUndefined();
  });
});

describe('example files', () => {
  const example = [
    'DB_HOST=your_database_host',
    'DB_PASSWORD=your_secure_database_password  # REQUIRED - no default',
    'JWT_SECRET=your_jwt_secret_minimum_32_characters',
    'ADMIN_API_KEY= # custos: hex, min 32',
    'EMAIL_ENABLED=true # custos: optional, one of true|false',
    'SMTP_HOST=smtp.example.com  # custos: required when EMAIL_ENABLED=true',
    '# custos: required when EMAIL_ENABLED=true',
    'SMTP_PASS=your_smtp_password',
    'STORAGE_TYPE=ipfs  # Options: ipfs, arweave, both',
    'IPFS_PROJECT_SECRET=x # custos: required when STORAGE_TYPE=ipfs|both and EMAIL_ENABLED=true',
    'FEATURE_TOKEN=abc # custos: public',
    'SESSION=abc # custos: secret',
  ].join('\n');

  it('reads names with dotenv and rules from # custos: directives', () => {
    const variables = parseExample(example, '.env.example');
    expect(variables.map((v) => v.name)).toEqual([
      'DB_HOST',
      'DB_PASSWORD',
      'JWT_SECRET',
      'ADMIN_API_KEY',
      'EMAIL_ENABLED',
      'SMTP_HOST',
      'SMTP_PASS',
      'STORAGE_TYPE',
      'IPFS_PROJECT_SECRET',
      'FEATURE_TOKEN',
      'SESSION',
    ]);
    const { rules } = inferSchema(variables);
    expect(rules.DB_HOST).toMatchObject({ sensitive: false, optional: false });
    expect(rules.DB_PASSWORD).toMatchObject({ sensitive: true, minBytes: 16 });
    expect(rules.JWT_SECRET).toMatchObject({ minBytes: 32, minEntropyBits: 96 });
    expect(rules.ADMIN_API_KEY).toMatchObject({ encoding: 'hex', minBytes: 32 });
    expect(rules.EMAIL_ENABLED).toMatchObject({ optional: true, oneOf: ['true', 'false'] });
    expect(rules.SMTP_HOST?.requiredWhen).toEqual({ EMAIL_ENABLED: ['true'] });
    expect(rules.SMTP_PASS?.requiredWhen).toEqual({ EMAIL_ENABLED: ['true'] });
    expect(rules.IPFS_PROJECT_SECRET?.requiredWhen).toEqual({
      STORAGE_TYPE: ['ipfs', 'both'],
      EMAIL_ENABLED: ['true'],
    });
    expect(rules.FEATURE_TOKEN?.sensitive).toBe(false);
    expect(rules.SESSION).toMatchObject({ sensitive: true, minBytes: 16 });
  });

  it('refuses an unknown directive, naming file and line', () => {
    expect(() => parseExample('A=1\nB=2 # custos: mandatory', '.env.example')).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_SCHEMA',
        message: expect.stringContaining('.env.example:2: unknown custos directive "mandatory"'),
      }),
    );
    expect(() => parseExample('A=1 # custos: required when EMAIL', 'x')).toThrow(
      /"required when" takes NAME=value/,
    );
  });
});

describe('schema files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-schema-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the JSON form and refuses a wrong one', async () => {
    const path = join(dir, 'secrets.schema.json');
    await writeFile(
      path,
      JSON.stringify({
        variables: {
          JWT_SECRET: { minBytes: 32 },
          SMTP_PASS: { requiredWhen: { EMAIL_ENABLED: 'true' } },
          STORAGE_TYPE: { sensitive: false, oneOf: ['ipfs', 'arweave', 'both'] },
        },
      }),
    );
    const schema = await loadSchemaFile(path);
    expect(schema.rules.JWT_SECRET?.minBytes).toBe(32);
    expect(schema.names).toEqual(['JWT_SECRET', 'SMTP_PASS', 'EMAIL_ENABLED', 'STORAGE_TYPE']);
    await writeFile(path, '{ not json');
    await expect(loadSchemaFile(path)).rejects.toThrow('the schema file is not valid JSON');
    expect(() => schemaFromJson({ JWT_SECRET: {} })).toThrow(/"variables"/);
    expect(() => schemaFromJson({ variables: { A: { minBytes: 'many' } } })).toThrow(
      'A: minBytes must be an integer from 0 to 65536',
    );
    await expect(loadSchemaFile(join(dir, 'absent.json'))).rejects.toThrow(/does not exist/);
  });

  it('loads a module exporting a schema, and refuses one that does not', async () => {
    const good = join(dir, 'good.mjs');
    // A schema from "another copy" of custos: only its plain rules travel.
    const rules = defineSecrets({ API_TOKEN: secret({ minBytes: 20 }) }).rules;
    await writeFile(
      good,
      `export default { [Symbol.for('custos.secrets.rule')]: 'schema', rules: ${JSON.stringify(rules)} };`,
    );
    expect((await loadSchemaFile(good)).rules.API_TOKEN?.minBytes).toBe(20);
    const bad = join(dir, 'bad.mjs');
    await writeFile(bad, 'export const nothing = 1;');
    await expect(loadSchemaFile(bad)).rejects.toThrow(/exports no schema/);
    await expect(loadSchemaFile(join(dir, 'absent.mjs'))).rejects.toThrow(
      /cannot import schema module/,
    );
  });
});

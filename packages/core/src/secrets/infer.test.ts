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
    ['DBPASS', 'password'],
    ['SMTPPASS', 'password'],
    ['PASSKEY', 'password'],
    ['MYSQL_ROOT_PWD', 'password'],
    ['JWT_SECRET', 'key'],
    ['JWT_REFRESH_SECRET_PREVIOUS', 'key'],
    ['ENCRYPTION_KEY', 'key'],
    ['AWS_SECRET_ACCESS_KEY', 'key'],
    ['ADMIN_API_KEY', 'key'],
    ['PRIVATE_KEY', 'key'],
    ['STRIPE_SECRET_KEY', 'key'],
    ['SECRETKEY', 'key'],
    ['PRIVATEKEY', 'key'],
    ['ENCRYPTIONKEY', 'key'],
    ['APIKEY', 'key'],
    ['STRIPE_APIKEY', 'key'],
    ['CLIENTSECRET', 'key'],
    ['TWILIO_AUTH_TOKEN', 'token'],
    ['GOOGLE_CREDENTIALS', 'token'],
    ['VAULT_TOKEN', 'token'],
    ['AUTHTOKEN', 'token'],
    ['AUTHORIZATION', 'token'],
    ['OAUTH_TOKEN', 'token'],
    // An ordinary word is set aside, not the rest of the name.
    ['MONKEY_API_KEY', 'key'],
    ['KEYBOARD_SECRET', 'key'],
    ['PASSENGER_DB_PASSWORD', 'password'],
    ['AUTHOR_TOKEN', 'token'],
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
    'DATABASE_URL',
    'NODE_ENV',
    // Ordinary words that contain a secret word.
    'KEYBOARD_LAYOUT',
    'KEYWORDS',
    'CASSANDRA_KEYSPACE',
    'MONKEY',
    'MONKEY_COUNT',
    'PASSENGER_LIMIT',
    'PASSENGER_APP_ENV',
    'BYPASS',
    'BYPASS_CACHE',
    'FTP_PASSIVE',
    'AUTHOR',
    'AUTHOR_NAME',
    'GIT_AUTHOR_EMAIL',
    'CERT_AUTHORITY',
    'NODE_TLS_REJECT_UNAUTHORIZED',
    'DB_SSL_REJECT_UNAUTHORIZED',
    'SECRETARY_EMAIL',
    'TOKENIZERS_PARALLELISM',
    'PGSSLKEY',
    'PWD',
    'OLDPWD',
    // Names that describe a secret: units, counts, where it lives, how it is handled.
    'MAX_TOKENS',
    'MIN_PASSWORD_LENGTH',
    'NUM_KEYS',
    'KEY_ROTATION_INTERVAL_DAYS',
    'AUTH_TIMEOUT',
    'PASSWORD_MIN',
    'SECRETS_BACKEND',
    'KMS_PROVIDER',
    'AUTH_MODE',
    'API_KEY_PREFIX',
    'JWT_SECRET_VERSION',
    'OAUTH_TOKEN_ENDPOINT',
    'AUTH0_DOMAIN',
    'AUTH0_AUDIENCE',
    'KEYCLOAK_REALM',
  ])('%s is not a secret', (name) => {
    expect(secretKindOfName(name)).toBeUndefined();
  });

  it("classifies every variable the seeds' examples name", () => {
    const seeds = {
      password: ['DB_PASSWORD', 'REDIS_PASSWORD', 'SMTP_PASS', 'GRAFANA_ADMIN_PASSWORD'],
      key: [
        'JWT_SECRET',
        'JWT_REFRESH_SECRET',
        'JWT_SECRET_PREVIOUS',
        'JWT_REFRESH_SECRET_PREVIOUS',
        'ENCRYPTION_KEY',
        'FIELD_ENCRYPTION_KEY',
        'AWS_SECRET_ACCESS_KEY',
        'SENDGRID_API_KEY',
        'STRIPE_SECRET_KEY',
        'LIFEFILE_API_KEY',
        'SECRET_KEY',
        'WEBHOOK_SECRET',
        'UPLOAD_S3_SECRET_KEY',
        'ADMIN_API_KEY',
        'IPFS_PROJECT_SECRET',
        'ARWEAVE_WALLET_KEY',
        'PRIVATE_KEY',
        'ETHERSCAN_API_KEY',
        'NEW_JWT_SECRET',
        'OLD_KEY',
      ],
      token: ['TWILIO_AUTH_TOKEN', 'VAULT_TOKEN'],
      none: [
        'AWS_ACCESS_KEY_ID',
        'DB_HOST',
        'DB_NAME',
        'DB_USER',
        'DB_SSL_REJECT_UNAUTHORIZED',
        'REDIS_HOST',
        'SMTP_HOST',
        'SMTP_USER',
        'SMTP_FROM',
        'IPFS_PROJECT_ID',
        'SSL_KEY_PATH',
        'SSL_CERT_PATH',
        'TLS_CIPHERS',
        'KMS_PROVIDER',
        'KEY_ROTATION_ENABLED',
        'KEY_ROTATION_INTERVAL_DAYS',
        'ENCRYPTION_ALGORITHM',
        'UPLOAD_S3_ENDPOINT_URL',
        'SLACK_WEBHOOK_URL',
        'GRAFANA_ADMIN_USER',
        'SECRETS_BACKEND',
        'VAULT_PATH',
        'BACKUP_ENCRYPTION_KEY_FILE',
      ],
    } as const;
    for (const [kind, names] of Object.entries(seeds)) {
      for (const name of names) {
        expect([name, secretKindOfName(name) ?? 'none']).toEqual([name, kind]);
      }
    }
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

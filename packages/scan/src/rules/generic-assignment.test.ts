import { describe, expect, it } from 'vitest';
import { randomString } from '../../test/generate.js';
import { scanText } from '../engine/scan-text.js';

// A strong value of a secret, made fresh for every run.
const value = () => `${randomString(20)}-${randomString(6)}`;

const syntaxes: Array<readonly [string, string, (v: string) => string]> = [
  ['dotenv', '.env', (v) => `API_SECRET=${v}`],
  ['dotenv, quoted', '.env', (v) => `API_SECRET="${v}"`],
  ['shell export', 'deploy.sh', (v) => `export SERVICE_TOKEN='${v}'`],
  ['YAML', 'config.yaml', (v) => `auth:\n  client_secret: ${v}\n`],
  ['JSON', 'config.json', (v) => `{"apiKey": "${v}"}`],
  ['TOML', 'config.toml', (v) => `[service]\nsecret_key = "${v}"`],
  ['INI', 'app.ini', (v) => `[db]\npassword = ${v}`],
  ['properties', 'app.properties', (v) => `spring.datasource.password=${v}`],
  ['XML element', 'web.xml', (v) => `<password>${v}</password>`],
  ['.NET appSettings', 'app.config', (v) => `<add key="ApiSecret" value="${v}" />`],
  ['JavaScript', 'client.js', (v) => `const apiToken = '${v}';`],
  ['TypeScript annotation', 'client.ts', (v) => `const signingKey: string = "${v}";`],
  ['object literal', 'config.ts', (v) => `export default { auth: { clientSecret: \`${v}\` } };`],
  ['Python', 'settings.py', (v) => `SECRET_KEY = "${v}"`],
  ['Python dict', 'settings.py', (v) => `DATABASES = {"default": {"PASSWORD": r"${v}"}}`],
  ['Go', 'main.go', (v) => `apiKey := "${v}"`],
  ['Go struct', 'main.go', (v) => `cfg := Config{Token: "${v}"}`],
  ['Java', 'App.java', (v) => `private static final String DB_PASSWORD = "${v}";`],
  ['C#', 'Program.cs', (v) => `var clientSecret = @"${v}";`],
  [
    'C# connection string',
    'appsettings.json',
    (v) => `"Default": "Server=db;User Id=app;Password=${v};"`,
  ],
  ['Ruby', 'config.rb', (v) => `config.secret_token = '${v}'`],
  ['Ruby hash', 'config.rb', (v) => `{ :api_key => "${v}" }`],
  ['PHP', 'config.php', (v) => `$dbPassword = '${v}';`],
  ['PHP array', 'config.php', (v) => `'secret' => '${v}',`],
  ['Terraform', 'main.tf', (v) => `resource "x" "y" {\n  password = "${v}"\n}`],
  ['Kubernetes env', 'deploy.yaml', (v) => `env:\n  - name: DB_PASSWORD\n    value: "${v}"\n`],
  ['Kubernetes stringData', 'secret.yaml', (v) => `kind: Secret\nstringData:\n  api-token: ${v}\n`],
  [
    'JDBC query',
    'app.properties',
    (v) => `url=jdbc:postgresql://db/app?user=app&password=${v}&ssl=true`,
  ],
  ['Authorization header', 'request.http', (v) => `Authorization: Bearer ${v}`],
  ['JWT secret by name', '.env', (v) => `JWT_SECRET=${v}`],
];

describe('generic assignment in every common syntax', () => {
  it.each(syntaxes)('%s', (_syntax, file, write) => {
    const secret = value();
    const text = write(secret);
    const findings = scanText(text, { name: file });
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    const lines = text.split('\n');
    const found = lines[(finding?.line ?? 0) - 1]?.slice((finding?.column ?? 0) - 1);
    expect(found?.startsWith(secret)).toBe(true);
    expect(finding?.endColumn).toBe((finding?.column ?? 0) + secret.length);
  });

  it('names the kind: password, JWT signing secret, other secret', () => {
    const rules = (text: string) => scanText(text, { name: '.env' }).map((f) => f.rule);
    expect(rules(`DB_PASSWORD=${value()}`)).toEqual(['password-assignment']);
    expect(rules(`JWT_SIGNING_KEY=${value()}`)).toEqual(['jwt-signing-secret']);
    expect(rules(`WEBHOOK_SECRET=${value()}`)).toEqual(['secret-assignment']);
  });
});

const notSecrets: Array<readonly [string, string, string]> = [
  ['a name describing a secret', '.env', `PASSWORD_MIN_LENGTH=${randomString(12)}`],
  ['a URL of a token endpoint', 'config.yaml', 'token_url: https://auth.example.com/oauth/token'],
  ['a public key', 'config.yaml', `public_key: ${randomString(40)}`],
  ['an identifier in code', 'app.ts', 'const password = userInput.password;'],
  ['a call in code', 'app.py', 'secret = get_secret("db")'],
  ['a bare identifier in code', 'app.go', 'token := req.Header'],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal reference is the point
  ['an environment reference', '.env', 'API_TOKEN=${API_TOKEN}'],
  ['process.env', 'app.js', 'const apiKey = process.env.API_KEY;'],
  ['os.environ', 'app.py', 'SECRET_KEY = os.environ["SECRET_KEY"]'],
  ['a template', 'deploy.yaml', 'password: "{{ .Values.db.password }}"'],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal reference is the point
  ['a GitHub Actions secret', 'ci.yml', 'token: ${{ secrets.NPM_TOKEN }}'],
  ['a placeholder', '.env.example', 'API_KEY=your_api_key_here'],
  ['x-ed out', '.env', 'API_KEY=xxxxxxxxxxxxxxxxxxxx'],
  ['angle brackets', 'README.txt', 'password: <your-password>'],
  ['a comparison', 'app.ts', `if (token === "${randomString(20)}") {}`],
  ['a UUID', 'config.json', '{"client_secret": "8f14e45f-ceea-467f-a0b2-7f2c3e8d1a9b"}'],
  ['a file path', 'config.yaml', 'private_key: /etc/ssl/private/server.key'],
  ['prose', 'README.txt', 'password: "Enter your password here"'],
  ['an env variable name', 'config.yaml', 'secretKeyRef: DB_PASSWORD_SECRET'],
  [
    'a bcrypt hash',
    'users.json',
    '{"password": "$2b$12$KIXQJ5vUDhFNF0y5u6bSMOyGvPmHNU.kWbQZJQ6ZpJ5v1A1Qn1bYe"}',
  ],
  [
    'an Argon2 hash',
    'users.yaml',
    'password: $argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$hash0123456789abcdef',
  ],
  [
    'a Vault transit ciphertext',
    '.env',
    'DB_PASSWORD=vault:v1:8SDd3WHDOjf7mq69CyCqYjBXAiQQAVZRkFM13ok481zoCmHnSeDX9vyf7w==',
  ],
  [
    'a custos envelope',
    '.env',
    `API_SECRET=enc:v2:custos:AQGixaGc5S_LiQAAAAFE-GLtGngep3PdYJ5lKwOtY_pnjmHBSGGZK5hNTk-QOaY`,
  ],
  [
    'a SOPS value',
    'secrets.yaml',
    'password: ENC[AES256_GCM,data:Zm9vYmFy,iv:abc,tag:def,type:str]',
  ],
  ['a sha512 integrity', 'package-lock.json', '"integrity": "sha512-abcdef"'],
  ['a short value', '.env', 'DB_PASSWORD=abc1'],
  ['a word', 'config.yaml', 'auth: required'],
  ['words in kebab case', 'config.yaml', 'token: github-actions-token'],
  ['a Terraform variable', 'main.tf', 'password = var.db_password'],
  // A storage path: where a secret is kept (custos, Vault, AWS), not the secret.
  [
    'a KV v2 path',
    'rotation.test.ts',
    `const policy = { secret: '${['secret', 'data', 'app', 'db'].join('/')}' };`,
  ],
  [
    'a KV path with kebab and digits',
    'config.yaml',
    `api_secret: ${['kv', 'prod-eu', 'db-password2'].join('/')}`,
  ],
  ['a transit key path', '.env', `SIGNING_SECRET=${['transit', 'keys', 'orders', '7'].join('/')}/`],
];

/** Slashes in a strong value: base64 (mixed case, digits inside words) stays a finding. */
const withSlashes = () => `${randomString(12)}/${randomString(8)}/${randomString(14)}`;

describe('values with slashes that are secrets', () => {
  it.each([
    ['base64 with slashes', '.env', (v: string) => `API_SECRET=${v}`],
    ['base64 with slashes in YAML', 'config.yaml', (v: string) => `client_secret: ${v}`],
  ] as const)('%s', (_what, file, write) => {
    const secret = withSlashes();
    expect(scanText(write(secret), { name: file }).map((f) => f.rule)).toEqual([
      'secret-assignment',
    ]);
  });

  it('a password of lower-case words and slashes is still a password', () => {
    const password = ['correct', 'horse', 'battery', 'staple'].join('/');
    expect(scanText(`DB_PASSWORD=${password}`, { name: '.env' }).map((f) => f.rule)).toEqual([
      'password-assignment',
    ]);
  });
});

describe('what is not a secret', () => {
  it.each(notSecrets)('%s', (_what, file, text) => {
    expect(scanText(text, { name: file })).toEqual([]);
  });
});

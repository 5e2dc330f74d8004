import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resolveRule } from './rules.js';
import { decodedByteLength, estimateEntropyBits } from './strength.js';
import { urlSecretParts } from './url-secrets.js';
import { checkValue } from './validate.js';
import { classifyWeakValue, type Weakness } from './weak-values.js';

describe('decodedByteLength', () => {
  it('counts the decoded bytes of each encoding', () => {
    const bytes = randomBytes(32);
    expect(decodedByteLength(bytes.toString('hex'), 'hex')).toBe(32);
    expect(decodedByteLength(`0x${bytes.toString('hex')}`, 'hex')).toBe(32);
    expect(decodedByteLength(bytes.toString('base64'), 'base64')).toBe(32);
    expect(decodedByteLength(bytes.toString('base64').replace(/=+$/, ''), 'base64')).toBe(32);
    expect(decodedByteLength(bytes.toString('base64url'), 'base64url')).toBe(32);
    expect(decodedByteLength('héllo', 'any')).toBe(6);
  });

  it('refuses values that are not in the encoding', () => {
    expect(decodedByteLength('abc', 'hex')).toBeUndefined();
    expect(decodedByteLength('zz', 'hex')).toBeUndefined();
    expect(decodedByteLength('', 'hex')).toBeUndefined();
    expect(decodedByteLength('a+b/c-d_', 'base64')).toBeUndefined();
    expect(decodedByteLength('a+b/', 'base64url')).toBeUndefined();
    expect(decodedByteLength('abcde', 'base64')).toBeUndefined();
    expect(decodedByteLength('abc=', 'base64')).toBe(2);
    expect(decodedByteLength('ab=', 'base64')).toBeUndefined();
    expect(decodedByteLength('not a pem', 'pem')).toBeUndefined();
  });

  it('reads PEM with real or escaped line breaks, and refuses a broken one', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const length = decodedByteLength(pem, 'pem');
    expect(length).toBeGreaterThan(100);
    expect(decodedByteLength(pem.replace(/\n/g, '\\n'), 'pem')).toBe(length);
    expect(decodedByteLength(pem.replace('END PRIVATE', 'END PUBLIC'), 'pem')).toBeUndefined();
    expect(decodedByteLength('-----BEGIN X-----\n-----END X-----', 'pem')).toBeUndefined();
  });
});

describe('estimateEntropyBits', () => {
  it('gives nothing for repetition and much for random text', () => {
    expect(estimateEntropyBits('')).toBe(0);
    expect(estimateEntropyBits('aaaaaaaaaaaaaaaa')).toBe(0);
    expect(estimateEntropyBits('abababababababab')).toBe(16);
    expect(estimateEntropyBits('passwordpassword')).toBeLessThan(48);
    expect(estimateEntropyBits(randomBytes(32).toString('hex'))).toBeGreaterThan(200);
    expect(estimateEntropyBits(randomBytes(32).toString('base64'))).toBeGreaterThan(180);
  });
});

/**
 * Every example, placeholder or default secret value in the seeds (/work/shared/seeds, read
 * line by line), with the variable it stands for and what the blacklist must call it. Seed 003
 * has none (its variables are TLS, HSTS and cookie settings and a key path). Real settings of
 * the seeds (`DB_PORT=5432`, `IPFS_HOST=ipfs.infura.io`, `AWS_REGION=us-east-1`) are not
 * examples of secrets and are not listed.
 */
const SEED_EXAMPLE_VALUES: readonly (readonly [string, string, string, Weakness])[] = [
  // 001: the application's own weak-password list, its example default and its tests.
  ['001', 'SECRET_KEY', 'password', 'weak'],
  ['001', 'SECRET_KEY', 'admin', 'weak'],
  ['001', 'SECRET_KEY', '123456', 'weak'],
  ['001', 'SECRET_KEY', 'scheduler', 'weak'],
  ['001', 'SECRET_KEY', 'your_secret_key_here_generate_a_random_64_char_string', 'placeholder'],
  ['001', 'SECRET_KEY', 'password_but_longer_than_32_characters_here', 'placeholder'],
  ['001', 'password', 'test_password_123', 'weak'],
  ['001', 'password', 'wrong_password', 'weak'],
  // 002: the .env.local example and the secrets manager commands.
  ['002', 'JWT_SECRET', 'your-64-char-hex-string-here', 'placeholder'],
  ['002', 'ENCRYPTION_KEY', 'your-64-char-hex-string-here', 'placeholder'],
  ['002', 'STRIPE_SECRET_KEY', 'sk_test_...', 'placeholder'],
  ['002', 'TWILIO_AUTH_TOKEN', 'test-token', 'weak'],
  ['002', 'LIFEFILE_API_KEY', 'sandbox-key', 'development-value'],
  ['002', 'secret-string url', 'postgresql://...', 'placeholder'],
  ['002', 'OLD_KEY', '...', 'placeholder'],
  // 004: the backend, contracts and monitoring .env examples, rotation and store commands.
  ['004', 'DB_HOST', 'your_database_host', 'placeholder'],
  ['004', 'DB_NAME', 'your_database_name', 'placeholder'],
  ['004', 'DB_USER', 'your_database_user', 'placeholder'],
  ['004', 'DB_PASSWORD', 'your_secure_database_password', 'placeholder'],
  ['004', 'REDIS_HOST', 'your_redis_host', 'placeholder'],
  ['004', 'REDIS_PASSWORD', 'your_secure_redis_password', 'placeholder'],
  ['004', 'JWT_SECRET', 'your_jwt_secret_minimum_32_characters', 'placeholder'],
  ['004', 'JWT_REFRESH_SECRET', 'your_refresh_secret_minimum_32_characters', 'placeholder'],
  ['004', 'JWT_SECRET_PREVIOUS', 'previous_jwt_secret', 'weak'],
  ['004', 'JWT_REFRESH_SECRET_PREVIOUS', 'previous_refresh_secret', 'weak'],
  ['004', 'ADMIN_API_KEY', 'your_admin_api_key', 'placeholder'],
  ['004', 'SMTP_HOST', 'smtp.example.com', 'placeholder'],
  ['004', 'SMTP_USER', 'your_smtp_user', 'placeholder'],
  ['004', 'SMTP_PASS', 'your_smtp_password', 'placeholder'],
  ['004', 'SMTP_FROM', 'noreply@yourdomain.com', 'placeholder'],
  ['004', 'IPFS_PROJECT_ID', 'your_project_id', 'placeholder'],
  ['004', 'IPFS_PROJECT_SECRET', 'your_project_secret', 'placeholder'],
  ['004', 'ARWEAVE_WALLET_KEY', '{"kty":"RSA",...}', 'placeholder'],
  ['004', 'PRIVATE_KEY', '0xYOUR_DEPLOYER_PRIVATE_KEY', 'placeholder'],
  ['004', 'RPC_URL_SEPOLIA', 'https://eth-sepolia.g.alchemy.com/v2/YOUR_API_KEY', 'placeholder'],
  ['004', 'RPC_URL_MAINNET', 'https://eth-mainnet.g.alchemy.com/v2/YOUR_API_KEY', 'placeholder'],
  ['004', 'ETHERSCAN_API_KEY', 'YOUR_ETHERSCAN_API_KEY', 'placeholder'],
  ['004', 'JWT_SECRET', '<new_secret>', 'placeholder'],
  ['004', 'JWT_REFRESH_SECRET', '<new_refresh_secret>', 'placeholder'],
  ['004', 'JWT_SECRET_PREVIOUS', '<old_secret>', 'placeholder'],
  ['004', 'JWT_REFRESH_SECRET_PREVIOUS', '<old_refresh_secret>', 'placeholder'],
  ['004', 'Authorization: Bearer', '<old_token>', 'placeholder'],
  ['004', 'GRAFANA_ADMIN_USER', 'your_admin_username', 'placeholder'],
  ['004', 'GRAFANA_ADMIN_PASSWORD', 'your_secure_password', 'placeholder'],
  ['004', 'SLACK_WEBHOOK_URL', 'https://hooks.slack.com/services/YOUR/WEBHOOK/URL', 'placeholder'],
  ['004', 'ALERT_EMAIL', 'alerts@yourdomain.com', 'placeholder'],
  ['004', 'ALERT_SMTP_USER', 'your_smtp_user', 'placeholder'],
  ['004', 'ALERT_SMTP_PASSWORD', 'your_smtp_password', 'placeholder'],
  ['004', 'VAULT_ADDR', 'https://vault.example.com:8200', 'placeholder'],
  ['004', 'VAULT_TOKEN', 's.xxxxxxxxxxxxxxxx', 'placeholder'],
  ['004', 'DB_PASSWORD', 'your_secure_password', 'placeholder'],
  ['004', 'REDIS_PASSWORD', 'your_redis_password', 'placeholder'],
  ['004', 'DB_PASSWORD', 'password', 'weak'], // process.env.DB_PASSWORD || 'password'
];

describe('every example value in the seeds', () => {
  // The most lenient rule there is: only the blacklist can refuse these values.
  const lenient = resolveRule({ minBytes: 1, minEntropyBits: 0 });

  it.each(SEED_EXAMPLE_VALUES)(
    'seed %s, %s=%s is %s, and refused in production',
    (_seed, name, value, weakness) => {
      expect(classifyWeakValue(value)).toBe(weakness);
      const { errors } = checkValue(name, value, lenient, true);
      expect(errors.map((e) => e.kind)).toEqual([weakness]);
      expect(checkValue(name, value, lenient, false).errors).toEqual([]);
    },
  );

  it("checks the password inside seed 002's DATABASE_URL", () => {
    const url = 'postgresql://user:password@localhost:5432/eonpro_dev';
    expect(urlSecretParts(url)?.password).toBe('password');
    const setting = resolveRule({ sensitive: false });
    expect(checkValue('DATABASE_URL', url, setting, true).errors.map((e) => e.kind)).toEqual([
      'weak',
    ]);
  });
});

describe('classifyWeakValue', () => {
  const placeholders = [
    'your_api_key_here',
    'changeme',
    'CHANGE_ME',
    '<your-api-key>',
    '[PHONE]',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an unexpanded variable is the input
    '${JWT_SECRET}',
    'TODO',
  ];
  const weak = [
    'Password123!',
    'secret',
    'qwerty',
    'letmein',
    'postgres',
    'my-jwt-secret',
    'supersecretpassword',
    'production-db-password-2024',
    'old-api-key',
    'current_token',
    'aaaaaaaaaaaaaaaa',
    'abcdefghijklmnop',
    '12345678901234567890',
    'abcabcabcabc',
  ];
  const development = ['sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'dev-4f8a9c2e7b1d3f6a', 'local'];

  it.each(placeholders)('calls %s a placeholder', (value) => {
    expect(classifyWeakValue(value)).toBe('placeholder');
  });
  it.each(weak)('calls %s weak', (value) => {
    expect(classifyWeakValue(value)).toBe('weak');
  });
  it.each(development)('calls %s a development value', (value) => {
    expect(classifyWeakValue(value)).toBe('development-value');
  });

  it('accepts random values and real passphrases', () => {
    // Deterministic "random" bytes: a blacklist rule that fires on random text fails every run.
    for (let i = 0; i < 2000; i++) {
      const bytes = createHash('sha256').update(`custos-${i}`).digest();
      expect(classifyWeakValue(bytes.toString('hex'))).toBeUndefined();
      expect(classifyWeakValue(bytes.subarray(0, 24).toString('base64'))).toBeUndefined();
      expect(classifyWeakValue(bytes.subarray(0, 16).toString('base64url'))).toBeUndefined();
    }
    expect(classifyWeakValue('Zq8#nV2$wL5!pR9@')).toBeUndefined();
    expect(classifyWeakValue('correct horse battery staple')).toBeUndefined();
  });
});

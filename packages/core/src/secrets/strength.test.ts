import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodedByteLength, estimateEntropyBits } from './strength.js';
import { classifyWeakValue } from './weak-values.js';

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

describe('classifyWeakValue', () => {
  // The seeds' own example and default values.
  const placeholders = [
    'your_database_host',
    'your_secure_database_password',
    'your_jwt_secret_minimum_32_characters',
    'your_refresh_secret_minimum_32_characters',
    'your_admin_api_key',
    'your_smtp_password',
    'your_project_secret',
    'your-64-char-hex-string-here',
    'your_secret_key_here_generate_a_random_64_char_string',
    'password_but_longer_than_32_characters_here',
    '0xYOUR_DEPLOYER_PRIVATE_KEY',
    'YOUR_ETHERSCAN_API_KEY',
    'https://hooks.slack.com/services/YOUR/WEBHOOK/URL',
    's.xxxxxxxxxxxxxxxx',
    'sk_test_...',
    '{"kty":"RSA",...}',
    'smtp.example.com',
    'noreply@yourdomain.com',
    'changeme',
    'CHANGE_ME',
    '<your-api-key>',
    '[PHONE]',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an unexpanded variable is the input
    '${JWT_SECRET}',
    'TODO',
  ];
  const weak = [
    'password',
    'Password123!',
    'secret',
    'admin',
    '123456',
    'qwerty',
    'letmein',
    'scheduler',
    'postgres',
    'test-token',
    'my-jwt-secret',
    'supersecretpassword',
    'production-db-password-2024',
    'aaaaaaaaaaaaaaaa',
    'abcdefghijklmnop',
    '12345678901234567890',
    'abcabcabcabc',
  ];
  const development = [
    'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
    'sandbox-key',
    'dev-4f8a9c2e7b1d3f6a',
    'local',
  ];

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

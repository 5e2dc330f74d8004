import { describe, expect, it } from 'vitest';
import { randomString } from '../../test/generate.js';
import { scanText } from '../engine/scan-text.js';

const value = () => `${randomString(20)}-${randomString(6)}`;
const rules = (text: string, name: string) => scanText(text, { name }).map((f) => f.rule);

describe('names by each hint', () => {
  it.each([
    ['DB_PWD', 'password-assignment'],
    ['SMTP_PASS', 'password-assignment'],
    ['db_passwd', 'password-assignment'],
    ['keyPassphrase', 'password-assignment'],
    ['WEBHOOK_SECRET', 'secret-assignment'],
    ['refresh_token', 'secret-assignment'],
    ['signingKey', 'secret-assignment'],
    ['SERVICE_CREDENTIAL', 'secret-assignment'],
    ['proxy_auth', 'secret-assignment'],
    ['BEARER', 'secret-assignment'],
    ['jwtSecret', 'jwt-signing-secret'],
  ])('%s', (name, rule) => {
    expect(rules(`${name}=${value()}`, '.env')).toEqual([rule]);
  });
});

describe('blanks and type annotations between a name and its value', () => {
  it.each([
    ['tabs', '.env', (v: string) => `DB_PASSWORD\t=\t${v}`],
    ['a union type', 'a.ts', (v: string) => `let dbPassword: string | null = "${v}";`],
    ['a generic type', 'a.ts', (v: string) => `const dbPassword: Readonly<Record<K, V>> = "${v}";`],
    ['an array type', 'a.ts', (v: string) => `let dbPassword: string[] = "${v}";`],
    ['a qualified type', 'a.kt', (v: string) => `val dbPassword: kotlin.String = "${v}"`],
    ['a type starting with _', 'a.ts', (v: string) => `let dbPassword: _Secret = "${v}";`],
  ])('%s', (_what, file, write) => {
    expect(rules(write(value()), file)).toEqual(['password-assignment']);
  });
});

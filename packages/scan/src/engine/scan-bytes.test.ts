import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  awsAccessKeyId,
  base64Of,
  checksummedToken,
  jwt,
  pemKeys,
  randomString,
} from '../../test/generate.js';
import { patternRule } from '../rules/rule.js';
import { fingerprintSecret } from './fingerprint.js';
import { oneByteText } from './one-byte-text.js';
import { scanBytes, scanText } from './scan-text.js';

/** A URI whose user and password differ only in a character above U+00FF. */
function sameUserAndPasswordButOneCharacter(): string {
  const tail = randomString(10);
  return `postgres://ą${tail}:ő${tail}@db.prod.internal/app`;
}
const password = () => `${randomString(10)}!${randomString(3)}`;

/** Lines that hold secrets, some with characters above U+00FF in or beside the value. */
const secretLines = [
  `token: ${checksummedToken('ghp_')}`,
  `STRIPE=sk_live_${randomString(24)}`,
  `password = "${password()}"`,
  `password: "pässwörd${randomString(6)}"`,
  `password: "pąsswőrd${randomString(6)}"`,
  `secret = "${randomString(10)}中${randomString(6)}"`,
  `api_key: "${randomString(8)}😀${randomString(12)}"`,
  `DATABASE_URL=postgres://app:${password()}@db.prod.internal/app`,
  `DATABASE_URL=postgres://ą:ő${randomString(10)}@db.prod.internal/app`,
  `DATABASE_URL=${sameUserAndPasswordButOneCharacter()}`,
  `DATABASE_URL=postgres://ä${randomString(4)}:ä${randomString(4)}@db.prod.internal/app`,
  `aws_access_key_id = ${awsAccessKeyId()}`,
  `aws_secret_access_key = ${base64Of(30)}`,
  `Authorization: Bearer ${jwt()}`,
  `machine api.example.com login me password ${password()}`,
  `machine api.example.com login me password pàss${randomString(8)}`,
  `{"auths": {"r.example.com": {"auth": "${Buffer.from(`me:${password()}`).toString('base64')}"}}}`,
  pemKeys().rsa ?? '',
];

/** Text around them: characters of every kind a stand-in replaces, and plain code. */
const noise = [
  'é',
  'ü',
  'ſ', // U+017F: upper-cases to ASCII S
  'K', // U+212A, the Kelvin sign: lower-cases to ASCII k
  'İ',
  '—',
  '→',
  '中文',
  '😀',
  '\u00a0',
  '\u2003',
  '\u3000',
  '\ufeff',
  '\u0085',
  '\u1680',
  '\u2028',
  ' ',
  '\n',
  '\r\n',
  '=',
  ': ',
  '"',
  "'",
  '// note: ',
  'const x = 1;',
  'key',
  'token = ',
  'password=',
];

const piece = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...secretLines) },
  { weight: 4, arbitrary: fc.constantFrom(...noise) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
);
// Glued to the next piece, or after a space or a line break as most text is.
const fragment = fc
  .tuple(piece, fc.constantFrom('', ' ', '\n'))
  .map(([text, separator]) => text + separator);
const fileBytes = fc
  .tuple(fc.array(fragment, { maxLength: 40 }), fc.boolean())
  .map(([parts, invalid]) => {
    const bytes = Buffer.from(parts.join(''), 'utf8');
    return invalid && bytes.length > 0 ? Buffer.concat([bytes, Buffer.from([0xff])]) : bytes;
  });

describe('scanBytes', () => {
  it('finds exactly what scanText finds in the decoded text, for any mix of characters', () => {
    let findings = 0;
    let nonAsciiSecrets = 0;
    fc.assert(
      fc.property(fileBytes, fc.constantFrom('a.env', 'src/a.ts', 'config.yaml'), (bytes, name) => {
        const expected = scanText(bytes.toString('utf8'), { name });
        expect(scanBytes(bytes, { name })).toEqual(expected);
        findings += expected.length;
        nonAsciiSecrets += expected.filter((f) => /[\u0080-\uffff]/.test(f.redacted)).length;
      }),
      { numRuns: 400 },
    );
    // The property was tested on findings, not on empty results.
    expect(findings).toBeGreaterThan(100);
    expect(nonAsciiSecrets).toBeGreaterThan(0);
  });

  it('judges a value by its own characters, not by their stand-ins', () => {
    // Characters above U+00FF: the one-byte text holds stand-ins for them.
    const value = `pąsswőrd${randomString(6)}`;
    const bytes = Buffer.from(`— config —\npassword: "${value}"\n`);
    const [finding, ...rest] = scanBytes(bytes, { name: 'a.yaml' });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ rule: 'password-assignment', line: 2, column: 12 });
    expect(finding?.fingerprint).toBe(fingerprintSecret(value));
    // The same user and password, told apart only by characters above U+00FF.
    const uri = sameUserAndPasswordButOneCharacter();
    const [found] = scanBytes(Buffer.from(uri), { name: 'a.env' });
    expect(found).toEqual(scanText(uri, { name: 'a.env' })[0]);
    expect(found?.confidence).toBe('high');
  });

  it('judges a secret by its own characters whether they are stand-ins or Latin-1 (themselves)', () => {
    // Values end at spaces: a space above U+00FF (a stand-in too) is tried in a key block.
    for (const odd of ['é', 'ÿ', '\u00b7', '中', '😀']) {
      const value = `${randomString(8)}${odd}${randomString(8)}!`;
      const bytes = Buffer.from(`note: x\npassword: "${value}"\n`);
      const [finding, ...rest] = scanBytes(bytes, { name: 'a.yaml' });
      expect(rest).toEqual([]);
      expect(finding).toMatchObject({ rule: 'password-assignment', line: 2, column: 12 });
      expect(finding?.fingerprint, JSON.stringify(odd)).toBe(fingerprintSecret(value));
    }
    for (const space of ['\u3000', '\u2003', '\u00a0']) {
      const body = (
        randomBytes(600)
          .toString('base64')
          .match(/.{1,64}/g) ?? []
      ).join('\n');
      const key = `-----BEGIN RSA PRIVATE KEY-----\nComment: a${space}b\n\n${body}\n-----END RSA PRIVATE KEY-----`;
      const [finding] = scanBytes(Buffer.from(key), { name: 'id_rsa' });
      expect(finding?.fingerprint, JSON.stringify(space)).toBe(fingerprintSecret(key));
      expect([finding]).toEqual(scanText(key, { name: 'id_rsa' }));
    }
  });

  it('decodes as usual for rules it was not given (a custom rule may read any character)', () => {
    const rule = patternRule({
      id: 'umlaut-token',
      description: 'a token after an umlaut',
      source: 'test',
      keywords: [],
      confidence: 'high',
      pattern: /ü(?<secret>[a-z0-9]{16})/g,
    });
    const text = `x = ü${randomString(16, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;
    const found = scanBytes(Buffer.from(text), { rules: [rule] });
    expect(found).toHaveLength(1);
    expect(found).toEqual(scanText(text, { rules: [rule] }));
  });
});

describe('oneByteText', () => {
  it('keeps the length and offsets of the decoded text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const bytes = Buffer.from(text, 'utf8');
        const oneByte = oneByteText(bytes);
        if (text.includes('\u2028') || text.includes('\u2029')) {
          expect(oneByte).toBeUndefined();
          return;
        }
        const decoded = bytes.toString('utf8');
        expect(oneByte?.length).toBe(decoded.length);
        for (let i = 0; i < decoded.length; i++) {
          const code = decoded.charCodeAt(i);
          const expected = code <= 0xff ? code : /\s/.test(decoded[i] as string) ? 0xa0 : 0xb7;
          expect(oneByte?.charCodeAt(i)).toBe(expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('declines bytes that are not UTF-8, and ASCII is itself', () => {
    expect(oneByteText(Buffer.from([0x61, 0xff, 0x62]))).toBeUndefined();
    expect(oneByteText(Buffer.from([0xc3]))).toBeUndefined();
    expect(oneByteText(Buffer.from('plain = "text"'))).toBe('plain = "text"');
  });
});

import { describe, expect, it } from 'vitest';
import { randomString } from '../../test/generate.js';
import { scanText } from '../engine/scan-text.js';

const value = () => `${randomString(20)}-${randomString(6)}`;
const found = (text: string, name: string) =>
  scanText(text, { name }).map((f) => ({ rule: f.rule, column: f.column, endColumn: f.endColumn }));
/** Where `secret` is in one-line `text`: the expected 1-based column and end column. */
const at = (text: string, secret: string, rule: string) => {
  const column = text.indexOf(secret) + 1;
  return [{ rule, column, endColumn: column + secret.length }];
};
const STOPS = [' ', '\t', ',', ';', ')', '}', ']', '<', '"', "'"];

describe('where a value ends', () => {
  it.each(STOPS)('ends a value in a query at %j', (char) => {
    const secret = value();
    const text = `const url = "https://h/p?password=${secret}${char}more";`;
    expect(found(text, 'app.ts')).toEqual(at(text, secret, 'password-assignment'));
  });

  it.each(STOPS)('ends the credential after a scheme at %j', (char) => {
    const secret = value();
    const text = `Authorization: Bearer ${secret}${char}more`;
    expect(found(text, 'request.yaml')).toEqual(at(text, secret, 'secret-assignment'));
  });

  it('reads & as part of a Kubernetes value', () => {
    const secret = `${value()}&${value()}`;
    const text = `- name: DB_PASSWORD\n  value: ${secret}\n`;
    const [finding, ...rest] = scanText(text, { name: 'deploy.yaml' });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ line: 2, column: 10, endColumn: 10 + secret.length });
  });
});

describe('schemes', () => {
  it('skips every blank after a scheme', () => {
    const secret = value();
    const text = `Authorization: "Bearer  \t ${secret}"`;
    expect(found(text, 'request.yaml')).toEqual(at(text, secret, 'secret-assignment'));
  });

  it('takes only a whole word for a scheme', () => {
    expect(found(`Authorization: MyToken ${value()}`, 'request.yaml')).toEqual([]);
    expect(found(`Authorization: Tokenizer ${value()}`, 'request.yaml')).toEqual([]);
  });
});

describe('Kubernetes names', () => {
  it('reads a single-quoted name, and one with blanks after it', () => {
    for (const text of [
      `- name: 'DB_PASSWORD'\n  value: ${value()}`,
      `- name: DB_PASSWORD  \n  value: ${value()}`,
    ]) {
      expect(found(text, 'deploy.yaml').map((f) => f.rule)).toEqual(['password-assignment']);
    }
  });

  it('takes a name only when it follows name: and nothing else', () => {
    expect(found(`  - name: x DB_PASSWORD\n    value: ${value()}`, 'deploy.yaml')).toEqual([]);
  });
});

describe('comparisons written without blanks', () => {
  it.each(['==', '=~'])('password%sVALUE is no assignment', (operator) => {
    expect(found(`password${operator}${value()}`, 'run.sh')).toEqual([]);
  });
});

describe('names trimmed of leading $ . - and trailing . -', () => {
  it('keeps the words a separator inside a name makes', () => {
    const secret = value();
    const text = `ssh-key: ${secret}`;
    expect(found(text, 'config.yaml')).toEqual(at(text, secret, 'secret-assignment'));
  });

  it.each([
    '$password',
    '.password',
    '-password',
    '$.-password',
    'password.',
    'password-',
    'password.-',
  ])('closes <%s> by the trimmed name', (tag) => {
    const secret = value();
    const text = `<${tag}>${secret}</password>`;
    expect(found(text, 'app.xml')).toEqual(at(text, secret, 'password-assignment'));
  });
});

describe('long names', () => {
  it('reads a name of up to 80 characters, and no longer one', () => {
    const secret = value();
    const eighty = `${'A'.repeat(71)}_PASSWORD=${secret}`;
    expect(found(eighty, '.env')).toEqual(at(eighty, secret, 'password-assignment'));
    expect(found(`${'A'.repeat(72)}_PASSWORD=${secret}`, '.env')).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { isPlaceholder, isReference } from './placeholders.js';

describe('isPlaceholder', () => {
  it.each([
    'password',
    'passwd',
    'secret',
    'token',
    'apikey',
    'api_key',
    'null',
    'nil',
    'none',
    'undefined',
    'true',
    'false',
    'test',
    'testing',
    'admin',
    'root',
    'pass',
    'string',
    'value',
    'empty',
    'default',
    'required',
    'optional',
    'secretkey',
    'secret_key',
    'mypassword',
    'mysecret',
  ])('the word %s, in any case, is a placeholder', (word) => {
    expect(isPlaceholder(word)).toBe(true);
    expect(isPlaceholder(word.toUpperCase())).toBe(true);
    // Only the word itself: not a value that starts with it.
    expect(isPlaceholder(`${word}Q7z`)).toBe(false);
  });

  it.each([
    'your_api_key',
    'Your-Token-K9',
    'your key',
    'api_key_here',
    'PUT-IT-HERE',
    'the value here',
    'abxxxxcd',
    'XXXX',
    'ab***cd',
    'wait...',
    'wait…',
    'id####',
    'aaaaaa',
    'k9Q------',
    '<api-key>',
    '[api key]',
    '(secret value)',
    'key1234567',
    'ABCDEFGH',
    'Qwerty99',
    'asdfghjk',
    'x0123456',
    'an-example-k9',
    'SAMPLE9',
    'dummy9',
    'Placeholder9',
    'changeme9',
    'change_me9',
    'change-me9',
    'replace9',
    'redacted9',
    'insert9',
    'fixme9',
    'todo9',
    'foobar9',
    'lorem9',
    'notreal9',
    'not_real9',
    'not-a-real9',
    'fake9',
    'mock9',
  ])('%s is a placeholder', (value) => {
    expect(isPlaceholder(value)).toBe(true);
  });

  it.each([
    'Q7zk2Lm9Wx4b',
    'yourkey9Q7z',
    'myyour_key9',
    'keyhere9Q7z',
    'k_here_9Q7z',
    'k9xxxz',
    'ab**cd',
    'wait..',
    'id###',
    'aaaaa',
    '<api-key',
    'x<api-key>',
    '<api-key>x',
    'api key]',
    '[api key',
    'x[api key]',
    '[api key]x',
    '(secret',
    'secret)',
    'x(secret)',
    '(secret)x',
    'key123456',
    'abcdef9',
    'qwert99',
    'asdfg99',
    'x012345',
  ])('%s is not a placeholder', (value) => {
    expect(isPlaceholder(value)).toBe(false);
  });
});

describe('isReference', () => {
  it.each([
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal reference is the point
    '${DB_PASSWORD}',
    '{{ .Values.password }}',
    'x }}',
    '#{secret}',
    '%(password)s',
    '$(cat /run/secret)',
    '$DB_PASSWORD',
    '$_token',
    '$db_password',
    '%appdata%',
    'var._private',
    '%DB_PASSWORD%',
    '%_x1%',
    'process.env.API_KEY',
    'import.meta.env.VITE_KEY',
    'os.environ["KEY"]',
    'os.getenv("KEY")',
    'ENV["KEY"]',
    'x = env["KEY"]',
    'env("KEY")',
    'Environment.GetEnvironmentVariable("KEY")',
    'System.getenv("KEY")',
    'var.db_password',
    'local.key',
    'data.vault_secret',
    'module.kms.key',
    'secrets.NPM_TOKEN',
    'vars.API_KEY',
    'VAR.db',
  ])('%s is a reference', (value) => {
    expect(isReference(value)).toBe(true);
  });

  it.each([
    'Q7zk2Lm9Wx4b',
    'a$DB_PASSWORD',
    '$1abc',
    '$',
    '%DB_PASSWORD',
    'x%DB_PASSWORD%',
    '%DB_PASSWORD%x',
    '%1x%',
    '%DB-PASSWORD%',
    'myenv["KEY"]',
    'myenv("KEY")',
    'environ',
    'a var.db',
    'var.1',
    'variable.db',
    'vardb',
    '{x}',
    '$ {x}',
  ])('%s is not a reference', (value) => {
    expect(isReference(value)).toBe(false);
  });
});

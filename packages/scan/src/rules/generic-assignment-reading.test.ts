import { describe, expect, it } from 'vitest';
import { randomString } from '../../test/generate.js';
import { prefilterFor } from '../engine/prefilter.js';
import { scanText } from '../engine/scan-text.js';
import { defaultRules } from './catalog.js';
import { genericAssignment } from './generic-assignment.js';
import type { RuleContext } from './rule.js';

// A strong value of a secret, made fresh for every run.
const value = () => `${randomString(20)}-${randomString(6)}`;
const found = (text: string, name = 'config.txt') =>
  scanText(text, { name }).map((f) => ({ rule: f.rule, column: f.column, endColumn: f.endColumn }));
/** Where `secret` is in one-line `text`: the expected 1-based column and end column. */
const at = (text: string, secret: string, rule = 'password-assignment') => {
  const column = text.indexOf(secret) + 1;
  return [{ rule, column, endColumn: column + secret.length }];
};

describe('the name', () => {
  it.each(['a', 'z', 'A', 'Z', '0', '9', '_', '.', '$', '-'])(
    'takes %s as part of a name',
    (char) => {
      const secret = value();
      const text = `DB_PASSWORD_${char}x=${secret}`;
      expect(found(text)).toEqual(at(text, secret));
    },
  );

  it.each(['@', '`', '[', '{', '/', ':', '!'])('ends a name at %s', (char) => {
    // The name is PUBLIC_KEY (not a secret) only when the character ends it.
    const secret = value();
    expect(found(`PUBLIC_KEY${char}AUTH_TOKEN=${secret}`)).toEqual(
      at(`PUBLIC_KEY${char}AUTH_TOKEN=${secret}`, secret, 'secret-assignment'),
    );
    expect(found(`PUBLIC_KEY_AUTH_TOKEN=${secret}`)).toEqual([]);
  });

  it('finds a name at the very start of the text', () => {
    const secret = value();
    expect(found(`token=${secret}`)).toEqual(at(`token=${secret}`, secret, 'secret-assignment'));
  });

  it('reads each name once, whether it searches the text itself or is told where hints are', () => {
    const secret = value();
    // auth_token holds two hints, secret_password_key three: still one candidate each.
    const text = `x = 1\npassword: ${secret}\nkey_type: rsa\nauth_token: ${secret}\nsecret_password_key: ${secret}\n`;
    const spans = (context?: RuleContext) =>
      [...genericAssignment.find(text, context)].map((c) => text.slice(c.start, c.end));
    expect(spans()).toEqual([secret, secret, secret]);
    const { keywordMatches } = prefilterFor(defaultRules).select(text);
    expect(keywordMatches).not.toBeUndefined();
    expect(spans({ name: 'a.yaml', ...(keywordMatches ? { keywordMatches } : {}) })).toEqual([
      secret,
      secret,
      secret,
    ]);
  });
});

describe('the operator', () => {
  it.each([
    ['Makefile ?=', 'Makefile', (v: string) => `DB_PASSWORD ?= ${v}`],
    ['Ruby ||=', 'config.rb', (v: string) => `@db_password ||= "${v}"`],
    ['PHP array', 'config.php', (v: string) => `$cfg['db_password'] = '${v}';`],
    ['PHP nested key', 'config.php', (v: string) => `$cfg["db"]["password"] = "${v}";`],
    ['Go :=', 'main.go', (v: string) => `dbPassword := "${v}"`],
    ['PHP => without blanks', 'config.php', (v: string) => `$cfg = ['db_password'=>'${v}'];`],
    ['Ruby => without blanks', 'config.rb', (v: string) => `{:db_password=>"${v}"}`],
    [
      'Kubernetes with CRLF',
      'deploy.yaml',
      (v: string) => `- name: DB_PASSWORD\r\n  value: ${v}\r\n`,
    ],
    [
      'Kubernetes, quoted name, no dash',
      'deploy.yaml',
      (v: string) => `    name: "DB_PASSWORD"\n    value: '${v}'`,
    ],
  ])('%s', (_what, file, write) => {
    const secret = value();
    const findings = scanText(write(secret), { name: file });
    expect(findings.map((f) => f.rule)).toEqual(['password-assignment']);
  });

  it.each([
    ['a comparison', 'if [ "$password" == "VALUE" ]; then'],
    ['a regular expression match', 'password =~ VALUE'],
    ['a scope', 'password::VALUE'],
    ['a redirection', 'echo token>VALUE'],
    ['an XML element closed by another name', '<password>VALUE</passwd>'],
    ['an empty XML element', '<password></password>'],
    ['a Kubernetes name under another key', '  - label: DB_PASSWORD\n    value: VALUE'],
    ['a Kubernetes name after text', 'x name: DB_PASSWORD\n    value: VALUE'],
    ['three closing quotes', `x["'password'"]] = VALUE`],
    ['a type annotation compared', 'password: string == VALUE'],
    ['a closing tag without its opening tag', 'password>VALUE</password>'],
    ['an XML element whose value starts with {', '<password>{VALUE}</password>'],
    ['value= after a question mark', 'password? value=VALUE'],
    ['value= after a pipe', 'password | value=VALUE'],
    [
      'a Kubernetes name whose value comes from elsewhere',
      '- name: DB_PASSWORD\n  valueFrom: VALUE',
    ],
  ])('%s is no assignment', (_what, template) => {
    expect(found(template.replace('VALUE', value()), 'run.sh')).toEqual([]);
  });
});

describe('the value', () => {
  it.each(['b', 'r', 'u', 'B', 'R', 'U', '@'])('reads a %s-prefixed string', (prefix) => {
    const secret = value();
    const text = `password = ${prefix}"${secret}"`;
    expect(found(text, 'settings.py')).toEqual(at(text, secret));
  });

  it('reads a quoted value past escaped quotes, and not over a line break', () => {
    const [a, b] = [randomString(10), randomString(10)];
    const text = `password = "${a}\\"${b}"`;
    expect(found(text, 'settings.py')).toEqual(at(text, `${a}\\"${b}`));
    expect(found(`password = "${a}\n${b}"`, 'settings.py')).toEqual([]);
    expect(found(`password = "${a}${b}`, 'settings.py')).toEqual([]);
  });

  it.each(['!', '|', '>', '&', '*', '[', '{'])('reads no bare value starting with %s', (char) => {
    expect(found(`password: ${char}${value()}`, 'config.yaml')).toEqual([]);
  });

  it.each([' ', '\t', ',', ';', ')', '}', ']', '<', '"', "'"])(
    'ends a bare value at %j',
    (char) => {
      const secret = value();
      const text = `password=${secret}${char}more`;
      expect(found(text)).toEqual(at(text, secret));
    },
  );

  it('ends a bare value at & only in a query', () => {
    const secret = value();
    const text = `password=${secret}&more`;
    expect(found(text)).toEqual(at(text, `${secret}&more`));
    for (const separator of ['?', '&', ';']) {
      const query = `const url = "https://h/p${separator}password=${secret}&x=1";`;
      expect(found(query, 'app.ts')).toEqual(at(query, secret));
    }
  });

  it('reads at most 1000 characters of a bare value', () => {
    const secret = randomString(1200);
    const text = `API_SECRET=${secret}`;
    expect(found(text, '.env')).toEqual(at(text, secret.slice(0, 1000), 'secret-assignment'));
  });

  it.each(['Bearer', 'Basic', 'Token', 'bearer', 'TOKEN'])(
    'takes the credential after %s',
    (scheme) => {
      const secret = value();
      for (const text of [
        `Authorization: "${scheme} ${secret}"`,
        `Authorization: "${scheme}\t${secret}"`,
        `Authorization: ${scheme} ${secret}`,
        `Authorization: ${scheme} ${secret}, next`,
      ]) {
        expect(found(text, 'request.yaml')).toEqual(at(text, secret, 'secret-assignment'));
      }
    },
  );

  it('takes a scheme word with nothing after it as the value', () => {
    expect(found('Authorization: Bearer', 'request.yaml')).toEqual([]);
    expect(found('Authorization: Bearer\nx', 'request.yaml')).toEqual([]);
  });
});

describe('code files', () => {
  it.each([
    'a.js',
    'a.ts',
    'a.jsx',
    'a.tsx',
    'a.mjs',
    'a.cjs',
    'a.mts',
    'a.cts',
    'a.py',
    'a.go',
    'A.java',
    'a.kt',
    'a.kts',
    'a.scala',
    'a.cs',
    'a.rb',
    'a.php',
    'a.swift',
    'a.rs',
    'a.c',
    'a.cc',
    'a.cpp',
    'a.h',
    'a.hpp',
    'a.m',
    'a.dart',
    'a.lua',
    'a.groovy',
    'a.vue',
    'a.svelte',
    'SRC/A.TS',
  ])('in %s an unquoted value is code', (file) => {
    expect(found(`token = ${value()}`, file)).toEqual([]);
    expect(found(`token = "${value()}"`, file).map((f) => f.rule)).toEqual(['secret-assignment']);
  });

  it.each(['a.json', 'a.ts.txt', 'a.tsv', 'a.jsonc', 'a.properties', 'ts', 'a.ps1'])(
    'in %s an unquoted value may be a secret',
    (file) => {
      expect(found(`token = ${value()}`, file).map((f) => f.rule)).toEqual(['secret-assignment']);
    },
  );

  it('reads an XML element in a code file', () => {
    const secret = value();
    const text = `<password>${secret}</password>`;
    expect(found(text, 'App.vue')).toEqual(at(text, secret));
  });
});

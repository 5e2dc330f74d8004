import { describe, expect, it } from 'vitest';
import { randomString } from '../../test/generate.js';
import { scanText } from '../engine/scan-text.js';
import { genericAssignment } from './generic-assignment.js';
import { patternRule } from './rule.js';

const value = () => `${randomString(20)}-${randomString(6)}`;
const rules = (text: string, name: string) => scanText(text, { name }).map((f) => f.rule);
/** What the rule finds in a file `request.yaml`: each candidate's id and text. */
const found = (text: string) =>
  [...genericAssignment.find(text, { name: 'request.yaml' })].map((c) => ({
    rule: c.ruleId,
    value: text.slice(c.start, c.end),
  }));

describe('the rule', () => {
  it('describes itself and names its source', () => {
    expect(genericAssignment.description).toMatch(
      /^strong value assigned to a secret-looking name/,
    );
    expect(genericAssignment.source).toBe(
      'https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html',
    );
    expect(genericAssignment.confidence).toBe('medium');
  });

  it('declares every id it reports: its own for a secret, variants for the other kinds', () => {
    const ruleIds = [
      `API_SECRET=${value()}`,
      `DB_PASSWORD=${value()}`,
      `JWT_SECRET=${value()}`,
    ].map((text) => [...genericAssignment.find(text, { name: '.env' })].map((c) => c.ruleId));
    expect(ruleIds).toEqual([
      ['secret-assignment'],
      ['password-assignment'],
      ['jwt-signing-secret'],
    ]);
    expect([genericAssignment.id, ...(genericAssignment.variants ?? [])]).toEqual(ruleIds.flat());
  });

  it('finds the same when the prefilter cannot tell where its hints are', () => {
    // A keyword that is not ASCII makes the prefilter search by regular expression.
    const other = patternRule({
      id: 'other',
      description: 'other',
      source: 'test',
      keywords: ['clé'],
      confidence: 'high',
      // Never in the text: a random value may hold `zz`, and this rule's match would then win it.
      pattern: /~~/g,
    });
    const text = `clé\ndb_password: ${value()}\n`;
    expect(scanText(text, { name: 'a.yaml', rules: [genericAssignment, other] })).toEqual(
      scanText(text, { name: 'a.yaml' }),
    );
    expect(rules(text, 'a.yaml')).toEqual(['password-assignment']);
  });
});

describe('more separators', () => {
  it.each([
    [
      'an annotation without a blank after :',
      'a.ts',
      (v: string) => `let dbPassword:string = "${v}";`,
    ],
    [
      'an annotation without a blank before =',
      'a.ts',
      (v: string) => `let dbPassword: string= "${v}";`,
    ],
    [
      'an annotation with a tab before =',
      'a.ts',
      (v: string) => `let dbPassword: string\t= "${v}";`,
    ],
    [
      'value= after an unquoted name',
      'app.config',
      (v: string) => `<add key=DbPassword value="${v}" />`,
    ],
    ['value = with blanks', 'app.config', (v: string) => `<add key="DbPassword" value = "${v}" />`],
    [
      'a Kubernetes pair at the start of lines',
      'deploy.yaml',
      (v: string) => `name: DB_PASSWORD\nvalue: ${v}\n`,
    ],
    [
      'a Kubernetes name after two blanks',
      'deploy.yaml',
      (v: string) => `- name:  DB_PASSWORD\n  value: ${v}\n`,
    ],
    [
      'a Kubernetes value after two blanks',
      'deploy.yaml',
      (v: string) => `- name: DB_PASSWORD\n  value:  ${v}\n`,
    ],
  ])('%s', (_what, file, write) => {
    expect(rules(write(value()), file)).toEqual(['password-assignment']);
  });

  it('reads each Kubernetes pair by its own indentation', () => {
    const text = `env:\n  - name: DB_PASSWORD\n    value: ${value()}\n  - name: API_TOKEN\n      value: ${value()}\n`;
    expect(rules(text, 'deploy.yaml')).toEqual(['password-assignment', 'secret-assignment']);
  });

  it('reads no value after three closing quotes or brackets', () => {
    expect(rules(`x[password"]' value="${value()}"`, 'app.config')).toEqual([]);
    expect(rules(`x[password"] value="${value()}"`, 'app.config')).toEqual(['password-assignment']);
  });

  it('takes no credential after a scheme word followed by anything but a blank', () => {
    expect(rules(`Authorization: Bearer,${value()}`, 'request.yaml')).toEqual([]);
  });
});

describe('how far back a name reaches', () => {
  it('80 characters before its hint at most', () => {
    // The name starts one character after the p of public: it is not a public anything.
    const text = `public_${'x'.repeat(73)}_PASS=${value()}`;
    expect(rules(text, '.env')).toEqual(['password-assignment']);
    expect(rules(`public_${'x'.repeat(72)}_PASS=${value()}`, '.env')).toEqual([]);
  });

  it('to its own start, far into a text', () => {
    expect(rules(`${'y'.repeat(100)}\nPUBLIC_TOKEN=${value()}`, '.env')).toEqual([]);
    expect(rules(`${'y'.repeat(100)}\nPRIVATE_TOKEN=${value()}`, '.env')).toEqual([
      'secret-assignment',
    ]);
  });
});

describe('how long a quoted value may be', () => {
  it('1000 characters between the quotes, a scheme included', () => {
    // The scheme makes the candidate shorter than what the quotes hold: the bound is on the latter.
    const longest = randomString(993);
    const text = `Authorization: "Bearer ${longest}"`;
    expect(found(text)).toEqual([{ rule: 'secret-assignment', value: longest }]);
    expect(found(`Authorization: "Bearer ${randomString(994)}"`)).toEqual([]);
  });
});

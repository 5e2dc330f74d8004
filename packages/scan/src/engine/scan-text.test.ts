import { describe, expect, it } from 'vitest';
import { checksummedToken, randomString } from '../../test/generate.js';
import { patternRule } from '../rules/rule.js';
import { DEFAULT_FINGERPRINT_KEY, fingerprintSecret } from './fingerprint.js';
import { prefilterFor } from './prefilter.js';
import { redactSecret } from './redact.js';
import { scanText } from './scan-text.js';

describe('scanText', () => {
  it('reports line, column, a keyed fingerprint and a redacted prefix, never the secret', () => {
    const token = checksummedToken('ghp_');
    const [finding, ...rest] = scanText(`# config\n\n  token: ${token}\n`, { name: 'a.yaml' });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ rule: 'github-token', file: 'a.yaml', line: 3, column: 10 });
    expect(finding?.fingerprint).toBe(fingerprintSecret(token));
    expect(finding?.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(finding?.redacted).toBe('ghp_…');
    expect(JSON.stringify(finding)).not.toContain(token.slice(4));
  });

  it('keys fingerprints: the documented key by default, another key gives another fingerprint', () => {
    const secret = randomString(30);
    expect(fingerprintSecret(secret)).toBe(fingerprintSecret(secret, DEFAULT_FINGERPRINT_KEY));
    expect(fingerprintSecret(secret, 'project key')).not.toBe(fingerprintSecret(secret));
    // The fingerprint depends on the secret only, not on where it is.
    const text = `STRIPE=sk_live_${secret}`;
    const [here] = scanText(text, { name: 'a.env' });
    const [there] = scanText(`\n\n   ${text}`, { name: 'b/c.env' });
    expect(here?.fingerprint).toBe(there?.fingerprint);
  });

  it('redacts to at most four characters and at most a quarter of the secret', () => {
    expect(redactSecret('abcdefghijklmnop')).toBe('abcd…');
    expect(redactSecret('abcdefgh')).toBe('ab…');
    expect(redactSecret('abc')).toBe('…');
  });

  it('honours custos-ignore on the line, custos-ignore-next-line before it, and gitleaks:allow', () => {
    const key = () => `sk_live_${randomString(24)}`;
    expect(scanText(`KEY=${key()} # custos-ignore`)).toEqual([]);
    expect(scanText(`// custos-ignore-next-line\nKEY=${key()}`)).toEqual([]);
    expect(scanText(`KEY=${key()} # gitleaks:allow`)).toEqual([]);
    expect(scanText(`// custos-ignore-next-line\n\nKEY=${key()}`)).toHaveLength(1);
  });

  it('drops allowlisted rules, fingerprints and paths, and baseline fingerprints', () => {
    const secret = `sk_live_${randomString(24)}`;
    const text = `KEY=${secret}`;
    const fingerprint = fingerprintSecret(secret);
    expect(scanText(text, { allowlist: { rules: ['stripe-secret-key'] } })).toEqual([]);
    expect(scanText(text, { allowlist: { fingerprints: [fingerprint] } })).toEqual([]);
    expect(scanText(text, { name: 'docs/x.md', allowlist: { paths: ['docs/'] } })).toEqual([]);
    expect(scanText(text, { name: 'src/x.md', allowlist: { paths: ['docs/'] } })).toHaveLength(1);
    expect(scanText(text, { baseline: new Set([fingerprint]) })).toEqual([]);
    expect(scanText(text, { baseline: new Set(['0'.repeat(32)]) })).toHaveLength(1);
  });

  it('reports test fixtures one confidence level lower, and filters by minimum confidence', () => {
    const text = `KEY=sk_live_${randomString(24)}`;
    expect(scanText(text, { name: 'src/app.ts' })[0]?.confidence).toBe('high');
    expect(scanText(text, { name: 'src/__tests__/app.ts' })[0]?.confidence).toBe('medium');
    expect(scanText(text, { name: 'test/fixtures/keys.env' })[0]?.confidence).toBe('medium');
    expect(scanText(text, { name: 'pkg/app_test.go' })[0]?.confidence).toBe('medium');
    expect(scanText(text, { name: 'src/__tests__/app.ts', minConfidence: 'high' })).toEqual([]);
  });

  it('reports one finding per secret: the most specific rule wins over the generic one', () => {
    const findings = scanText(`GITHUB_TOKEN=${checksummedToken('ghp_')}`, { name: '.env' });
    expect(findings.map((f) => f.rule)).toEqual(['github-token']);
  });

  it('runs only the rules whose keywords occur, and rules without keywords always', () => {
    const calls: string[] = [];
    const spy = (id: string, keywords: string[]) => ({
      ...patternRule({
        id,
        description: id,
        source: 'x',
        keywords,
        confidence: 'high',
        pattern: /zz/g,
      }),
      find() {
        calls.push(id);
        return [];
      },
    });
    const rules = [
      spy('a', ['alpha']),
      spy('b', ['beta']),
      spy('c', []),
      spy('d', ['sk_', 'sk_live_']),
    ];
    scanText('ALPHA and sk_live_', { rules });
    expect(calls).toEqual(['a', 'c', 'd']);
    // Case-blind both ways (a rule's keyword may be written in capitals), also in text holding
    // characters outside Latin-1, whose lowercasing can change the text's length.
    calls.length = 0;
    scanText('İİ — ß→ BeTa', { rules: [spy('e', ['BETA']), spy('f', ['gamma'])] });
    expect(calls).toEqual(['e']);
    // Keywords that overlap in the text: both are found.
    calls.length = 0;
    scanText('xabcx', { rules: [spy('g', ['ab']), spy('h', ['bc'])] });
    expect(calls).toEqual(['g', 'h']);
    expect(
      prefilterFor(rules)
        .activeRules('nothing here')
        .map((r) => r.id),
    ).toEqual(['c']);
  });
});

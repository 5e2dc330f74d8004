import { describe, expect, it } from 'vitest';
import { nearMisses, positives } from '../../test/rule-examples.js';
import { scanText } from '../engine/scan-text.js';

describe('provider rules find real-format credentials', () => {
  it.each(positives)('$name', ({ text, rule, confidence }) => {
    const findings = scanText(text(), { name: 'config/settings' });
    expect(findings.map((f) => [f.rule, f.confidence])).toEqual([[rule, confidence]]);
  });
});

describe('near misses are not reported', () => {
  it.each(nearMisses)('%s', (_name, text) => {
    expect(scanText(text(), { name: 'config/settings' })).toEqual([]);
  });
});

describe('documented example values', () => {
  it('leaves alone the keys providers publish in their documentation', () => {
    expect(scanText('stripe.api_key = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"')).toEqual([]);
  });

  it('reports short or user-equal URI passwords at low confidence', () => {
    // custos-ignore-next-line (a weak literal on purpose: this repository scans itself)
    const [short] = scanText('postgres://app:pw@db.prod.internal/app');
    expect(short).toMatchObject({ rule: 'postgresql-uri-password', confidence: 'low' });
    const [same] = scanText('postgres://postgres:postgres@db.prod.internal/app'); // custos-ignore
    expect(same).toMatchObject({ rule: 'postgresql-uri-password', confidence: 'low' });
  });
});

import { describe, expect, it } from 'vitest';
import type { AlertRule } from '../config/alerts-config.js';
import { type Alert, createAlertEvaluator } from './alert-evaluator.js';

const rules: AlertRule[] = [
  {
    name: 'logins',
    event: { kind: 'auth_failure_spike', threshold: 3, windowMs: 60_000 },
    channels: ['ops'],
  },
  { name: 'sealed', event: { kind: 'node_sealed' }, channels: ['ops', 'mail'] },
  { name: 'certs', event: { kind: 'certificate_expiring', days: 14 }, channels: ['mail'] },
  { name: 'rotations', event: { kind: 'rotation_failed' }, channels: ['ops'] },
];

function setup() {
  let now = 1_000_000;
  const fired: Alert[] = [];
  const evaluator = createAlertEvaluator({
    rules,
    rateLimitMs: 300_000,
    fire: (alert) => fired.push(alert),
    clock: () => now,
  });
  return { evaluator, fired, advance: (ms: number) => (now += ms) };
}
const failure = { kind: 'auth_failure', reason: 'bad_token' } as const;

describe('the alert evaluator', () => {
  it('fires exactly one alert for a spike of failed logins (rate limit)', () => {
    const { evaluator, fired, advance } = setup();
    for (let i = 0; i < 2; i++) evaluator.observe(failure);
    expect(fired).toEqual([]);
    for (let i = 0; i < 50; i++) evaluator.observe(failure);
    expect(fired.map((a) => a.rule)).toEqual(['logins']);
    expect(fired[0]).toMatchObject({ event: 'auth_failure_spike', channels: ['ops'] });
    advance(300_000);
    for (let i = 0; i < 3; i++) evaluator.observe(failure);
    expect(fired).toHaveLength(2);
  });

  it('forgets failures older than the window', () => {
    const { evaluator, fired, advance } = setup();
    evaluator.observe(failure);
    evaluator.observe(failure);
    advance(61_000);
    evaluator.observe(failure);
    expect(fired).toEqual([]);
  });

  it('fires state rules only when their condition holds', () => {
    const { evaluator, fired } = setup();
    evaluator.observe({ kind: 'certificate', name: 'server', daysLeft: 30 });
    evaluator.observe({ kind: 'rotation', result: 'succeeded' });
    expect(fired).toEqual([]);
    evaluator.observe({ kind: 'certificate', name: 'server', daysLeft: 9.5 });
    evaluator.observe({ kind: 'rotation', result: 'rolled_back' });
    evaluator.observe({ kind: 'sealed' });
    expect(fired.map((a) => a.rule)).toEqual(['certs', 'rotations', 'sealed']);
    expect(fired[0]?.summary).toContain('server');
  });
});

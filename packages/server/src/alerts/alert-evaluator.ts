import type { AlertRule } from '../config/alerts-config.js';

/** What the server reports to the evaluator: the same events its metrics count. */
export type AlertSignal =
  | { readonly kind: 'auth_failure'; readonly reason: string }
  | { readonly kind: 'decryption_failure'; readonly source: string }
  | { readonly kind: 'rotation'; readonly result: string }
  | { readonly kind: 'rotation_overdue'; readonly count: number }
  | { readonly kind: 'certificate'; readonly name: string; readonly daysLeft: number }
  | { readonly kind: 'audit_sink_failed'; readonly sink: string }
  | { readonly kind: 'sealed' };

/** An alert a rule raised: what delivery sends (no secret value, only counts and names). */
export interface Alert {
  readonly rule: string;
  /** The rule's event, or `test` for an alert sent by `custos alerts test`. */
  readonly event: AlertRule['event']['kind'] | 'test';
  readonly summary: string;
  readonly channels: readonly string[];
}

/** Feeds signals to the rules; `fire` is called at most once per rule per `rateLimitMs`. */
export interface AlertEvaluator {
  observe(signal: AlertSignal): void;
}

export interface AlertEvaluatorOptions {
  readonly rules: readonly AlertRule[];
  readonly rateLimitMs: number;
  /** Receives each alert; must not block (delivery is queued by the caller). */
  readonly fire: (alert: Alert) => void;
  /** Told the name of a rule that triggered within its rate limit (and was held back). */
  readonly rateLimited?: (rule: string) => void;
  /** Milliseconds now (tests pass their own). */
  readonly clock?: () => number;
}

/** The summary a rule gives a signal, or undefined when the rule does not trigger. */
function triggered(rule: AlertRule, signal: AlertSignal, recent: number[], now: number) {
  const event = rule.event;
  switch (event.kind) {
    case 'auth_failure_spike':
    case 'decryption_failures': {
      const wanted = event.kind === 'auth_failure_spike' ? 'auth_failure' : 'decryption_failure';
      if (signal.kind !== wanted) return undefined;
      recent.push(now);
      while (recent.length > 0 && (recent[0] as number) <= now - event.windowMs) recent.shift();
      if (recent.length > event.threshold) recent.splice(0, recent.length - event.threshold);
      if (recent.length < event.threshold) return undefined;
      const what = event.kind === 'auth_failure_spike' ? 'authentication' : 'decryption';
      return `${recent.length} ${what} failures within ${event.windowMs / 1000}s`;
    }
    case 'rotation_failed':
      return signal.kind === 'rotation' && signal.result !== 'succeeded'
        ? `a rotation ended with "${signal.result}"`
        : undefined;
    case 'rotation_overdue':
      return signal.kind === 'rotation_overdue' && signal.count > 0
        ? `${signal.count} rotation(s) overdue`
        : undefined;
    case 'certificate_expiring':
      return signal.kind === 'certificate' && signal.daysLeft <= event.days
        ? `certificate "${signal.name}" expires in ${Math.max(0, Math.floor(signal.daysLeft))} day(s)`
        : undefined;
    case 'audit_sink_failing':
      return signal.kind === 'audit_sink_failed'
        ? `audit sink "${signal.sink}" failed a write`
        : undefined;
    case 'node_sealed':
      return signal.kind === 'sealed' ? 'the node is sealed' : undefined;
  }
}

/**
 * Evaluates alert rules against server signals, in memory: spikes are counted in a sliding
 * window, and a rule fires at most once per `rateLimitMs`.
 *
 * @example
 * ```ts
 * const evaluator = createAlertEvaluator({ rules: config.alerts.rules, rateLimitMs: 300_000, fire: queue });
 * evaluator.observe({ kind: 'auth_failure', reason: 'bad_token' });
 * ```
 */
export function createAlertEvaluator(options: AlertEvaluatorOptions): AlertEvaluator {
  const clock = options.clock ?? Date.now;
  const windows = new Map<string, number[]>();
  const lastFired = new Map<string, number>();
  return {
    observe(signal) {
      const now = clock();
      for (const rule of options.rules) {
        let recent = windows.get(rule.name);
        if (recent === undefined) {
          recent = [];
          windows.set(rule.name, recent);
        }
        const summary = triggered(rule, signal, recent, now);
        if (summary === undefined) continue;
        const last = lastFired.get(rule.name);
        if (last !== undefined && now - last < options.rateLimitMs) {
          options.rateLimited?.(rule.name);
          continue;
        }
        lastFired.set(rule.name, now);
        options.fire({ rule: rule.name, event: rule.event.kind, summary, channels: rule.channels });
      }
    },
  };
}

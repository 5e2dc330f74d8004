/**
 * Lists and shapes the dashboard shares with the server. The dashboard bundles no server code,
 * so they are copies; `packages/server/test/dashboard-copies.test.ts` holds each one equal to
 * the server's own (values at run time, types when the tests are type-checked).
 */

/**
 * The data classes a secret's `custom_metadata.data_class` may hold (docs/classification.md;
 * `DATA_CLASSES` of `@custos/core/classification`). The server matches a class without regard
 * to case and refuses anything else with a 400.
 */
export const DATA_CLASSES = ['PHI', 'PII', 'credential', 'payment', 'internal'] as const;

/**
 * The moves `transit/keys/:name/state` allows from each state (`KEY_TRANSITIONS` of
 * `@custos/core/kms`). `expired` is entered by the clock, never chosen.
 */
export const NEXT_STATES: Readonly<Record<string, readonly string[]>> = {
  active: ['inactive', 'rotating', 'revoked', 'pending_deletion'],
  rotating: ['active', 'inactive', 'revoked'],
  inactive: ['active', 'revoked', 'pending_deletion'],
  revoked: ['pending_deletion'],
  expired: ['pending_deletion'],
  pending_deletion: ['inactive', 'revoked'],
};

/**
 * One line of `transit/keys/:name/usage` (the server's `KeyUsageEntry`): no token and no value;
 * the request id finds the audit entry.
 */
export interface UsageEntry {
  readonly time: string;
  readonly operation: string;
  readonly success: boolean;
  readonly version?: number;
  readonly display_name: string;
  readonly request_id: string;
}

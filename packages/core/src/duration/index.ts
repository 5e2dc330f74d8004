/**
 * Durations as custos reads them everywhere — server parameters (`ttl`, `token_ttl`,
 * `delete_version_after`, `auto_rotate_period`), CLI flags (`--grace`) and library options:
 * Vault's grammar (`300`, `"90s"`, `"1h30m"`, `"1.5h"`) plus days (`d`) and weeks (`w`).
 *
 * @example
 * ```ts
 * import { formatDuration, parseDurationSeconds } from '@custos/core/duration';
 * formatDuration(parseDurationSeconds('1h30m')); // "1h30m0s"
 * ```
 * @module
 */
export {
  formatDuration,
  type ParseDurationOptions,
  parseDurationSeconds,
} from '../lib/duration.js';

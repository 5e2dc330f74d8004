/**
 * Redaction: keep secret values out of logs, errors and serialised output.
 *
 * - {@link Secret} wraps a value so it prints `[REDACTED]`;
 * - {@link redact} removes every secret value the process has loaded (plain, JSON-escaped,
 *   URL-encoded, base64) from any text; the secrets SDK registers each value it loads;
 * - {@link pinoRedaction} plugs both into a pino logger.
 *
 * @example
 * ```ts
 * import { redact, Secret } from '@custos/core/redaction';
 * logger.warn(redact(String(err)));
 * ```
 * @module
 */
export {
  DEFAULT_REDACTED_PATHS,
  type PinoRedactionOptions,
  type PinoRedactionSettings,
  pinoRedaction,
} from './pino.js';
export {
  createScrubber,
  defaultScrubber,
  MIN_SCRUBBED_LENGTH,
  REDACTED,
  redact,
  redactError,
  registerSecretValue,
  type Scrubber,
} from './scrubber.js';
export { isSecret, Secret } from './secret.js';

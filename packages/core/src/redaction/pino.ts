import { defaultScrubber, REDACTED, type Scrubber } from './scrubber.js';

/**
 * Field paths (pino / fast-redact syntax) whose values are censored whatever they hold:
 * the usual names of credentials in request logs and configuration objects.
 *
 * @example
 * ```ts
 * pino({ redact: [...DEFAULT_REDACTED_PATHS, 'patient.ssn'] });
 * ```
 */
export const DEFAULT_REDACTED_PATHS: readonly string[] = [
  'password',
  'secret',
  'token',
  'apiKey',
  'authorization',
  'cookie',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.accessToken',
  '*.refreshToken',
  '*.clientSecret',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-vault-token"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

/** Options for {@link pinoRedaction}. */
export interface PinoRedactionOptions {
  /** Extra field paths to censor, added to {@link DEFAULT_REDACTED_PATHS}. */
  readonly paths?: readonly string[];
  /** Scrubber for whole log lines; default the process-wide one the secrets SDK fills. */
  readonly scrubber?: Scrubber;
}

/** The subset of pino's options {@link pinoRedaction} returns (structurally typed: no pino import). */
export interface PinoRedactionSettings {
  readonly redact: { readonly paths: string[]; readonly censor: string };
  readonly hooks: { readonly streamWrite: (line: string) => string };
}

/**
 * Options to spread into `pino({...})` so that no secret reaches a log line, two ways:
 * fields with credential-like names are censored (`redact`), and every finished line passes
 * through the scrubber (`hooks.streamWrite`), which removes each value loaded through the
 * secrets SDK wherever it appears — in a message, an error stack, a child logger's bindings.
 * Needs pino ≥ 9.2 (the `streamWrite` hook).
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { pinoRedaction } from '@custos/core/redaction';
 * const logger = pino({ level: 'info', ...pinoRedaction({ paths: ['*.ssn'] }) });
 * logger.error({ err }, 'database connect failed'); // the DB password never appears
 * ```
 */
export function pinoRedaction(options: PinoRedactionOptions = {}): PinoRedactionSettings {
  const scrubber = options.scrubber ?? defaultScrubber;
  return {
    redact: { paths: [...DEFAULT_REDACTED_PATHS, ...(options.paths ?? [])], censor: REDACTED },
    hooks: { streamWrite: (line) => scrubber.redact(line) },
  };
}

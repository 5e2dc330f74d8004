import { isSecret, type Secret } from './secret.js';

/**
 * What every scrubbed occurrence becomes.
 *
 * @example
 * ```ts
 * redact(text).includes(REDACTED);
 * ```
 */
export const REDACTED = '[REDACTED]';

/**
 * Values shorter than this are not registered: replacing every `true`, `false` or `8080` in a
 * log would make logs useless, and such values cannot be secrets worth the name (custos refuses
 * them in production).
 *
 * @example
 * ```ts
 * if (value.length < MIN_SCRUBBED_LENGTH) warn('too short to be scrubbed from logs');
 * ```
 */
export const MIN_SCRUBBED_LENGTH = 6;

/**
 * Removes registered secret values from text. Each value is matched in the forms it commonly
 * takes in logs and errors: as is, JSON-escaped, URL-encoded, and base64 / base64url (also
 * inside a longer base64 blob such as a Basic `Authorization` header).
 *
 * @example
 * ```ts
 * const scrubber = createScrubber();
 * scrubber.add(dbPassword);
 * scrubber.redact(`connect failed: postgres://app:${dbPassword.reveal()}@db/app`);
 * // "connect failed: postgres://app:[REDACTED]@db/app"
 * ```
 */
export interface Scrubber {
  /** Registers a value (and its encoded forms). Values under 6 characters are ignored. */
  add(value: string | Secret<string>): void;
  /** Returns `text` with every registered value, in every form, replaced by `[REDACTED]`. */
  redact(text: string): string;
  /**
   * Scrubs an error's message and stack in place (and those of its `cause` chain and
   * `AggregateError.errors`) and returns it, so it can be rethrown.
   */
  redactError<E>(error: E): E;
  /** Number of registered values. */
  readonly size: number;
}

/**
 * Creates an empty {@link Scrubber}. Most code uses the process-wide one through
 * {@link redact} and {@link registerSecretValue}; a separate scrubber is for isolation.
 *
 * @example
 * ```ts
 * const scrubber = createScrubber();
 * scrubber.add('s3cr3t-value-1234');
 * scrubber.redact('token=s3cr3t-value-1234'); // "token=[REDACTED]"
 * ```
 */
export function createScrubber(): Scrubber {
  const values = new Set<string>();
  const forms = new Set<string>();
  let pattern: RegExp | undefined;

  const compiled = (): RegExp => {
    if (pattern === undefined) {
      // Longest first, so a full form wins over a fragment of it.
      const sorted = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp);
      pattern = new RegExp(sorted.join('|'), 'g');
    }
    return pattern;
  };

  const scrubber: Scrubber = {
    add(input) {
      const value = isSecret(input) ? input.reveal() : input;
      if (typeof value !== 'string' || value.length < MIN_SCRUBBED_LENGTH || values.has(value)) {
        return;
      }
      values.add(value);
      for (const form of encodedForms(value)) {
        if (form.length >= MIN_SCRUBBED_LENGTH) forms.add(form);
      }
      pattern = undefined;
    },
    redact(text) {
      if (forms.size === 0 || typeof text !== 'string' || text.length === 0) return text;
      return text.replace(compiled(), REDACTED);
    },
    redactError(error) {
      scrubErrorInPlace(error, scrubber, new Set());
      return error;
    },
    get size() {
      return values.size;
    },
  };
  return scrubber;
}

/** Every form of `value` the scrubber looks for. */
function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const out = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)];
  out.push(encodeURIComponent(value).replace(/%20/g, '+'));
  out.push(bytes.toString('base64'), bytes.toString('base64url'));
  for (const shift of [0, 1, 2]) {
    const fragment = base64Fragment(bytes, shift);
    out.push(fragment, fragment.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/**
 * The base64 characters that depend only on `bytes` when they sit `shift` bytes (mod 3) into a
 * longer encoded buffer: the characters mixing in neighbouring bytes are dropped at both ends.
 * Registering the three shifts finds the value inside any base64 blob.
 */
function base64Fragment(bytes: Buffer, shift: number): string {
  const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
  const leading = [0, 2, 3][shift] as number;
  const stable = Math.floor(((shift + bytes.length) * 8) / 6);
  return encoded.slice(leading, stable);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function scrubErrorInPlace(error: unknown, scrubber: Scrubber, seen: Set<unknown>): void {
  if (typeof error !== 'object' || error === null || seen.has(error)) return;
  seen.add(error);
  if (error instanceof Error) {
    // Own, writable properties: assignment works on every Error subclass.
    error.message = scrubber.redact(error.message);
    if (typeof error.stack === 'string') error.stack = scrubber.redact(error.stack);
    scrubErrorInPlace(error.cause, scrubber, seen);
    if (error instanceof AggregateError) {
      for (const inner of error.errors) scrubErrorInPlace(inner, scrubber, seen);
    }
  }
}

const processScrubber = createScrubber();

/**
 * The process-wide scrubber. The secrets SDK registers every sensitive value it loads here, so
 * `redact()` anywhere in the process removes them.
 *
 * @example
 * ```ts
 * import { defaultScrubber } from '@custos/core/redaction';
 * defaultScrubber.size; // how many values are registered
 * ```
 */
export const defaultScrubber: Scrubber = processScrubber;

/**
 * Replaces every secret value the process has loaded through the secrets SDK (or registered
 * with {@link registerSecretValue}) with `[REDACTED]`, in its plain, JSON-escaped,
 * URL-encoded and base64 forms.
 *
 * @example
 * ```ts
 * import { redact } from '@custos/core/redaction';
 * process.stderr.write(redact(`request failed: ${String(err)}\n`));
 * ```
 */
export function redact(text: string): string {
  return processScrubber.redact(text);
}

/**
 * Registers a value with the process-wide scrubber, for secrets that do not come through the
 * secrets SDK (a token received at run time, a generated password).
 *
 * @example
 * ```ts
 * const { secret } = generateSecret();
 * registerSecretValue(secret);
 * ```
 */
export function registerSecretValue(value: string | Secret<string>): void {
  processScrubber.add(value);
}

/**
 * Scrubs an error's message, stack and cause chain with the process-wide scrubber, in place,
 * and returns it.
 *
 * @example
 * ```ts
 * try { await connect(); } catch (err) { throw redactError(err); }
 * ```
 */
export function redactError<E>(error: E): E {
  return processScrubber.redactError(error);
}

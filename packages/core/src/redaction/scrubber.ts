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
 * takes in logs and errors: as is, JSON-escaped, percent-encoded (`encodeURIComponent`, form
 * bodies with `+` for spaces, a URL's user-info; upper- or lowercase escapes), hex (either
 * case), and base64 / base64url (also inside a longer base64 blob such as a Basic
 * `Authorization` header).
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
   * Scrubs an error in place and returns it, so it can be rethrown: its message and stack, its
   * `cause` chain (errors, plain objects and strings alike), `AggregateError.errors`, and the
   * string fields of its own properties (`err.config.password`), down to 8 levels of nested
   * objects, each object once.
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
      scrubErrorInPlace(error, { scrubber, seen: new Set() }, 0);
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
  const out = [value, JSON.stringify(value).slice(1, -1)];
  // Percent-encodings differ in what they leave alone: encodeURIComponent keeps ! ' ( ) ~ *,
  // form bodies (URLSearchParams) encode them and write a space as +, a URL's user-info keeps
  // others again. Each is also registered with lowercase escapes (%2f), which some encoders write.
  const percentForms = [
    tryEncode(() => encodeURIComponent(value)),
    tryEncode(() => encodeURIComponent(value).replace(/%20/g, '+')),
    tryEncode(() => new URLSearchParams([['', value]]).toString().slice(1)),
    tryEncode(() => userInfoEncoded(value)),
  ].filter((form): form is string => form !== undefined);
  for (const form of percentForms) {
    out.push(
      form,
      form.replace(/%[0-9A-F]{2}/g, (percent) => percent.toLowerCase()),
    );
  }
  out.push(bytes.toString('hex'), bytes.toString('hex').toUpperCase());
  out.push(bytes.toString('base64'), bytes.toString('base64url'));
  for (const shift of [0, 1, 2]) {
    const fragment = base64Fragment(bytes, shift);
    out.push(fragment, fragment.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** How a URL writes `value` as a password: `postgres://app:<this>@db/app`. */
function userInfoEncoded(value: string): string {
  const url = new URL('http://host.invalid/');
  url.password = value;
  return url.password;
}

/** An encoding, or nothing when the value cannot take it (a lone surrogate, for example). */
function tryEncode(encode: () => string): string | undefined {
  try {
    return encode();
  } catch {
    return undefined;
  }
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

/** How deep below an error plain objects are searched (`err.config.headers.authorization`). */
const MAX_FIELD_DEPTH = 8;
/** How many objects one `redactError` call visits at most, so a huge error stays cheap. */
const MAX_VISITED_OBJECTS = 10_000;

interface ScrubWalk {
  readonly scrubber: Scrubber;
  readonly seen: Set<object>;
}

/**
 * Scrubs an error in place: its message, stack and `cause` (an error, a plain object or a
 * string), the errors of an `AggregateError`, and the string fields of every own enumerable
 * property, down to {@link MAX_FIELD_DEPTH} levels of plain objects and arrays. Errors met on the
 * way (causes, aggregated errors, fields) are scrubbed the same way; each object once.
 * Read-only and accessor properties are left alone.
 */
function scrubErrorInPlace(value: unknown, walk: ScrubWalk, depth: number): void {
  if (typeof value !== 'object' || value === null || walk.seen.has(value)) return;
  if (walk.seen.size >= MAX_VISITED_OBJECTS || ArrayBuffer.isView(value)) return;
  walk.seen.add(value);
  const isError = value instanceof Error;
  // An error starts again at depth 0: cause chains are followed to their end.
  const fieldDepth = isError ? 0 : depth;
  if (isError) {
    for (const name of ['message', 'stack', 'cause'] as const) scrubField(value, name, walk, 0);
    if (value instanceof AggregateError && Array.isArray(value.errors)) {
      for (const inner of value.errors) scrubErrorInPlace(inner, walk, 0);
    }
  }
  if (fieldDepth >= MAX_FIELD_DEPTH) return;
  for (const name of Object.keys(value)) scrubField(value, name, walk, fieldDepth + 1);
}

function scrubField(target: object, name: string, walk: ScrubWalk, depth: number): void {
  try {
    const descriptor = Object.getOwnPropertyDescriptor(target, name);
    if (descriptor === undefined || !('value' in descriptor)) return;
    const field: unknown = descriptor.value;
    if (typeof field === 'string') {
      if (descriptor.writable !== true) return;
      const scrubbed = walk.scrubber.redact(field);
      if (scrubbed !== field) (target as Record<string, unknown>)[name] = scrubbed;
    } else {
      scrubErrorInPlace(field, walk, depth);
    }
  } catch {
    // An exotic object (a proxy, a sealed host object) refused: scrubbing an error must not throw.
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
 * percent-encoded, hex and base64 forms.
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
 * Scrubs an error with the process-wide scrubber, in place, and returns it: message, stack,
 * cause chain (errors, plain objects, strings) and string fields (`err.config.password`).
 *
 * @example
 * ```ts
 * try { await connect(); } catch (err) { throw redactError(err); }
 * ```
 */
export function redactError<E>(error: E): E {
  return processScrubber.redactError(error);
}

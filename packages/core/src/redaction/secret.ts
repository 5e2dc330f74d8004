import { timingSafeEqual } from 'node:crypto';

const REDACTED = '[REDACTED]';
const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * Holds a secret value so it cannot leak by accident: `String(secret)`, template literals,
 * `JSON.stringify`, `console.log` and `util.inspect` all print `[REDACTED]`. The value is kept
 * in a private field (not copied by `structuredClone` or object spread) and comes out only
 * through {@link Secret.reveal}.
 *
 * @example
 * ```ts
 * const apiKey = new Secret(process.env.API_KEY ?? '');
 * logger.info({ apiKey }, 'loaded');       // {"apiKey":"[REDACTED]"}
 * fetch(url, { headers: { authorization: `Bearer ${apiKey.reveal()}` } });
 * ```
 */
export class Secret<T = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  /** Returns the secret value. Call it as late as possible, at the point of use. */
  reveal(): T {
    return this.#value;
  }

  /**
   * Compares with another secret or value in constant time (strings and byte arrays only).
   * Returns false for values of other types or different lengths.
   */
  equals(other: Secret<T> | T): boolean {
    const a = toComparable(this.#value);
    const b = toComparable(other instanceof Secret ? other.reveal() : other);
    if (a === undefined || b === undefined || a.length !== b.length) return false;
    return timingSafeEqual(a, b);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspectSymbol](): string {
    return `Secret(${REDACTED})`;
  }
}

function toComparable(value: unknown): Uint8Array | undefined {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return value;
  return undefined;
}

/**
 * Type guard for {@link Secret}.
 *
 * @example
 * ```ts
 * const text = isSecret(v) ? v.reveal() : v;
 * ```
 */
export function isSecret(value: unknown): value is Secret<unknown> {
  return value instanceof Secret;
}

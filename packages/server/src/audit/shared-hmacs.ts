import type { AuditKey, HmacMemo } from './hmac-values.js';

/** Whose values an audit entry is written for: a token's entry, or an access key's identity. */
export interface HmacIdentity {
  readonly accessor: string;
  readonly displayName: string;
  readonly policies: readonly string[];
  readonly meta: Readonly<Record<string, string>> | null;
}

/**
 * Values found in nearly every entry (zero counts, flags, empty strings, token types, the
 * built-in policies): constants of the code, secret to no request, so their HMACs are kept.
 */
const COMMON_VALUES: readonly string[] = [
  '',
  '0',
  '1',
  'true',
  'false',
  'service',
  'batch',
  'default',
  'root',
];

/**
 * A request's HMAC memo layered over HMACs kept across requests. Looked up first in the
 * request's own layer, then in the shared one; an HMAC computed for one of the `kept` values
 * goes to the shared layer, every other value's to the request's own, which `clear()` empties
 * (the broker clears it once the response is logged: no value of a request outlives it).
 */
export class LayeredHmacMemo extends Map<string, string> {
  readonly #shared: HmacMemo;
  readonly #kept: ReadonlySet<string>;

  constructor(shared: HmacMemo, kept: ReadonlySet<string>) {
    super();
    this.#shared = shared;
    this.#kept = kept;
  }

  override get(text: string): string | undefined {
    return super.get(text) ?? this.#shared.get(text);
  }

  override has(text: string): boolean {
    return super.has(text) || this.#shared.has(text);
  }

  override set(text: string, hmac: string): this {
    if (this.#kept.has(text)) this.#shared.set(text, hmac);
    else super.set(text, hmac);
    return this;
  }
}

interface SharedSlot {
  /** The values whose HMACs are kept: the common values and the identity's own. */
  readonly kept: ReadonlySet<string>;
  /** Kept HMACs per sink key (a key dropped on sealing takes its HMACs with it). */
  readonly memos: WeakMap<AuditKey, HmacMemo>;
}

/**
 * HMACs that every request of one caller computes again otherwise: the caller's accessor,
 * display name, policies and metadata (in the `auth` block of both entries, and in the data of
 * a lookup), and the {@link COMMON_VALUES}. They are kept as long as the identity object lives
 * (for a token, while the token cache holds its entry) and only for values that object holds
 * already, so nothing a request sent or received is kept: a secret in a request's data or a
 * response's is HMAC'd into the request's own layer and dropped with it.
 *
 * @example
 * ```ts
 * const shared = new SharedHmacs();
 * const memo = shared.memoFor(key, tokenEntry); // hand to hmacValue / hmacScalars
 * ```
 */
export class SharedHmacs {
  readonly #common: SharedSlot = { kept: new Set(COMMON_VALUES), memos: new WeakMap() };
  readonly #byIdentity = new WeakMap<HmacIdentity, SharedSlot>();

  /** A fresh memo for one request under `key`, over the HMACs kept for `identity`. */
  memoFor(key: AuditKey, identity: HmacIdentity | undefined): LayeredHmacMemo {
    const slot = identity === undefined ? this.#common : this.#slotOf(identity);
    let shared = slot.memos.get(key);
    if (shared === undefined) {
      shared = new Map();
      slot.memos.set(key, shared);
    }
    return new LayeredHmacMemo(shared, slot.kept);
  }

  #slotOf(identity: HmacIdentity): SharedSlot {
    let slot = this.#byIdentity.get(identity);
    if (slot === undefined) {
      const own = [identity.accessor, identity.displayName, ...identity.policies];
      for (const value of Object.values(identity.meta ?? {}))
        if (typeof value === 'string') own.push(value);
      slot = { kept: new Set([...COMMON_VALUES, ...own]), memos: new WeakMap() };
      this.#byIdentity.set(identity, slot);
    }
    return slot;
  }
}

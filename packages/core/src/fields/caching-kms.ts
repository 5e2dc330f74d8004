import { CustosError } from '../errors/index.js';
import { BoundedCache } from './bounded-cache.js';
import {
  type DataKeyContext,
  dataKeyBinding,
  type FieldKms,
  type KmsKeyVersion,
} from './field-kms.js';

/** Bounds of {@link createCachingKms}; an entry goes when the first bound is reached. */
export interface CachingKmsOptions {
  /** Seconds a data key is reused and an unwrapped key kept; default 300. */
  readonly maxAgeSeconds?: number;
  /** Data keys handed out from one `generateDataKey` call; default 10,000. 1 disables reuse. */
  readonly maxUses?: number;
  /** Keys held (generated per context, plus unwrapped per wrapped key); default 1000 each. */
  readonly maxEntries?: number;
  /** Clock in milliseconds; default `Date.now`. */
  readonly now?: () => number;
}

interface Generated {
  readonly plaintext: Buffer;
  readonly wrapped: string;
  uses: number;
}

/**
 * Wraps any {@link FieldKms} with a data-key cache bounded in uses, age and size, after the AWS
 * Encryption SDK's caching CMM: `generateDataKey` hands out one KMS-generated data key for up
 * to `maxUses` calls or `maxAgeSeconds`, per tenant context; `unwrapDataKey` answers from
 * memory for a wrapped key it has seen within `maxAgeSeconds`. A busy service (several field
 * ciphers, `custos reencrypt`, backup key wrapping) then calls its KMS once per key and period,
 * not once per value. Concurrent misses share one KMS call. Each call returns a fresh copy of
 * the key (callers zero what they get). When `currentKey()` reports a new KMS key version, the
 * data keys generated under the old one stop being handed out.
 *
 * The cost: a data key stays in process memory for up to `maxAgeSeconds`, and up to `maxUses`
 * values share it; a revoked KMS grant takes effect only as entries expire.
 *
 * @example
 * ```ts
 * const kms = createCachingKms(transitDataKeys(client, 'fields'), { maxUses: 1000, maxAgeSeconds: 60 });
 * const fc = createFieldCipher({ kms });
 * ```
 */
export function createCachingKms(kms: FieldKms, options: CachingKmsOptions = {}): FieldKms {
  const maxUses = options.maxUses ?? 10_000;
  if (!Number.isSafeInteger(maxUses) || maxUses < 1) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'maxUses must be a positive integer');
  }
  const maxAgeSeconds = options.maxAgeSeconds ?? 300;
  if (!(maxAgeSeconds > 0 && Number.isFinite(maxAgeSeconds))) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'maxAgeSeconds must be a positive number');
  }
  const cacheOptions = {
    maxEntries: options.maxEntries ?? 1000,
    ttlSeconds: maxAgeSeconds,
    ...(options.now === undefined ? {} : { now: options.now }),
  };
  const generated = new BoundedCache<Generated>(cacheOptions);
  const unwrapped = new BoundedCache<Buffer>(cacheOptions);
  let current: KmsKeyVersion | undefined;

  const wrappedUnderOld = (entry: Generated) => {
    if (current === undefined) return false;
    const by = kms.describeWrappedKey(entry.wrapped);
    return by.keyId !== current.keyId || by.keyVersion !== current.keyVersion;
  };
  const generate = async (context: DataKeyContext): Promise<Generated> => {
    const { plaintext, wrapped } = await kms.generateDataKey(context);
    const own = Buffer.from(plaintext);
    plaintext.fill(0);
    unwrapped.set(unwrapKey(context, wrapped), own);
    return { plaintext: own, wrapped, uses: 0 };
  };

  return {
    async generateDataKey(context) {
      const key = contextKey(context);
      let versionChecked = false;
      for (;;) {
        const entry = await generated.getOrLoad(key, () => generate(context));
        const stale = !versionChecked && wrappedUnderOld(entry);
        versionChecked = true;
        if (stale || entry.uses >= maxUses) {
          // Another caller may already have replaced it: drop only this entry.
          if (generated.get(key) === entry) generated.delete(key);
          continue;
        }
        entry.uses++;
        return { plaintext: Buffer.from(entry.plaintext), wrapped: entry.wrapped };
      }
    },
    async unwrapDataKey(wrapped, context) {
      const key = await unwrapped.getOrLoad(unwrapKey(context, wrapped), async () => {
        const plaintext = await kms.unwrapDataKey(wrapped, context);
        const own = Buffer.from(plaintext);
        plaintext.fill(0);
        return own;
      });
      return Buffer.from(key);
    },
    describeWrappedKey(wrapped) {
      return kms.describeWrappedKey(wrapped);
    },
    async currentKey() {
      current = await kms.currentKey();
      return current;
    },
  };
}

/** One cache slot per binding (purpose and tenant, or backup file): never shared across them. */
function contextKey(context: DataKeyContext): string {
  return JSON.stringify(dataKeyBinding(context));
}

function unwrapKey(context: DataKeyContext, wrapped: string): string {
  return `${contextKey(context)}\u0000${wrapped}`;
}

import { createCipheriv, createDecipheriv, type KeyObject, randomBytes } from 'node:crypto';
import type { TokenEntry } from './token-entry.js';

/** Vault's prefix for batch tokens. */
export const BATCH_TOKEN_PREFIX = 'hvb.';
/** The longest batch token accepted (its value carries its policies and metadata). */
export const MAX_BATCH_TOKEN_LENGTH = 8192;

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Binds every batch token ciphertext to its purpose and format version. */
const AAD = Buffer.from('custos batch token v1');

/** What a batch token carries (short keys keep the value short). */
interface BatchClaims {
  /** policies */
  p: string[];
  /** creation time, expiry, creation TTL (Unix seconds / seconds) */
  c: number;
  e: number;
  t: number;
  /** explicit max TTL asked for (0 = none) */
  x: number;
  /** parent's keyed hash ('' = orphan) */
  h: string;
  /** display name, metadata, creation path */
  d: string;
  m: Record<string, string>;
  a: string;
  /** token role ('' = none) and bound CIDRs */
  r: string;
  b: string[];
  /** namespace (custos has only the root namespace, '') */
  n: string;
  /** the person of an orphan's maker (absent: none recorded) */
  i?: string;
  /** the uuid of the auth mount whose login issued it (absent: not issued by a login) */
  u?: string;
}

/** The fields of a batch token's entry that its value carries. */
export type BatchEntryFields = Pick<
  TokenEntry,
  | 'policies'
  | 'creationTime'
  | 'expireTime'
  | 'creationTtl'
  | 'parentHash'
  | 'displayName'
  | 'meta'
  | 'path'
> & {
  readonly explicitMaxTtl: number;
  readonly role?: string;
  readonly boundCidrs?: readonly string[];
  readonly creator?: string;
  readonly mount?: string;
};

/**
 * Seals a batch token's entry into its value: `hvb.` + base64url(version ‖ IV ‖ AES-256-GCM
 * ciphertext ‖ 16-byte tag) under `key`, a key kept behind the barrier (the same on every node),
 * so any node can verify it without storage.
 *
 * @example
 * ```ts
 * const token = sealBatchToken(key, fields);
 * ```
 */
export function sealBatchToken(key: KeyObject, fields: BatchEntryFields): string {
  const claims: BatchClaims = {
    p: [...fields.policies],
    c: fields.creationTime,
    e: fields.expireTime,
    t: fields.creationTtl,
    x: fields.explicitMaxTtl,
    h: fields.parentHash,
    d: fields.displayName,
    m: fields.meta,
    a: fields.path,
    r: fields.role ?? '',
    b: [...(fields.boundCidrs ?? [])],
    n: '',
    ...(fields.creator === undefined ? {} : { i: fields.creator }),
    ...(fields.mount === undefined ? {} : { u: fields.mount }),
  };
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(AAD);
  const body = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final()]);
  const sealed = Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]);
  return BATCH_TOKEN_PREFIX + sealed.toString('base64url');
}

/**
 * Opens a batch token sealed by {@link sealBatchToken}: the entry it carries (with `hash`, as
 * given), or undefined for anything that is not a batch token sealed under `key` (malformed,
 * altered, another key). Expiry and the parent's liveness are the caller's to check.
 *
 * @example
 * ```ts
 * const entry = openBatchToken(key, token, hash);
 * ```
 */
export function openBatchToken(
  key: KeyObject,
  token: string,
  hash: string,
): TokenEntry | undefined {
  if (!token.startsWith(BATCH_TOKEN_PREFIX) || token.length > MAX_BATCH_TOKEN_LENGTH) return;
  const encoded = token.slice(BATCH_TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return;
  const sealed = Buffer.from(encoded, 'base64url');
  // One spelling per token: decoding ignores a lone last character and a last character's
  // unused bits, and each spelling would be audited under an HMAC of its own.
  if (sealed.toString('base64url') !== encoded) return;
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES + 2 || sealed[0] !== VERSION) return;
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES);
  let claims: BatchClaims;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(AAD);
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    claims = JSON.parse(plain) as BatchClaims;
  } catch {
    return undefined;
  }
  return {
    accessor: '',
    policies: claims.p,
    displayName: claims.d,
    meta: claims.m,
    numUses: 0,
    parentHash: claims.h,
    path: claims.a,
    hash,
    creationTime: claims.c,
    creationTtl: claims.t,
    expireTime: claims.e,
    maxExpireTime: claims.e,
    renewable: false,
    explicitMaxTtl: claims.x,
    type: 'batch',
    ...(claims.r === '' ? {} : { role: claims.r }),
    ...(claims.b.length === 0 ? {} : { boundCidrs: claims.b }),
    ...(typeof claims.i === 'string' ? { creator: claims.i } : {}),
    ...(typeof claims.u === 'string' ? { mount: claims.u } : {}),
  };
}

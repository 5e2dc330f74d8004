import type { AuthBlock } from '../http/envelope.js';
import { remainingTtl, type TokenEntry } from './token-store.js';

/**
 * The `auth` block of a response that issues or renews a token, with the lease counted from
 * `nowSeconds` (the token store's clock). `token` is '' when the caller named it by accessor.
 */
export function authBlock(token: string, entry: TokenEntry, nowSeconds: number): AuthBlock {
  return {
    client_token: token,
    accessor: entry.accessor,
    policies: entry.policies,
    token_policies: entry.policies,
    metadata: Object.keys(entry.meta).length > 0 ? entry.meta : null,
    lease_duration: leaseDuration(entry, nowSeconds),
    renewable: entry.renewable,
    entity_id: '',
    token_type: entry.type ?? 'service',
    orphan: entry.parentHash === '',
    num_uses: Math.max(0, entry.numUses),
  };
}

/** A token's properties as `lookup-self` / `lookup` return them (`id` only for the caller's own). */
export function lookupData(
  entry: TokenEntry,
  nowSeconds: number,
  token?: string,
): Record<string, unknown> {
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
  return {
    accessor: entry.accessor,
    creation_time: entry.creationTime,
    creation_ttl: entry.creationTtl,
    display_name: entry.displayName,
    entity_id: '',
    expire_time: entry.expireTime === 0 ? null : iso(entry.expireTime),
    explicit_max_ttl: explicitMaxTtlOf(entry),
    ...(token === undefined ? {} : { id: token }),
    issue_time: iso(entry.creationTime),
    meta: Object.keys(entry.meta).length > 0 ? entry.meta : null,
    num_uses: Math.max(0, entry.numUses),
    orphan: entry.parentHash === '',
    path: entry.path,
    policies: entry.policies,
    renewable: entry.renewable,
    ttl: remainingTtl(entry, nowSeconds),
    type: entry.type ?? 'service',
    ...((entry.period ?? 0) > 0 ? { period: entry.period } : {}),
    ...(entry.role === undefined ? {} : { role: entry.role }),
    ...(entry.boundCidrs === undefined ? {} : { bound_cidrs: entry.boundCidrs }),
  };
}

/**
 * The explicit maximum TTL as Vault reports it: what was asked for (capped), 0 when none was.
 * Entries written before it was recorded report their maximum lifetime, as they did.
 */
function explicitMaxTtlOf(entry: TokenEntry): number {
  if (entry.explicitMaxTtl !== undefined) return entry.explicitMaxTtl;
  return entry.maxExpireTime === 0 ? 0 : Math.round(entry.maxExpireTime - entry.creationTime);
}

/**
 * The lease of a token just issued or renewed, as Vault reports it: the TTL granted, in whole
 * seconds (3600 for `ttl=1h`). The milliseconds spent between granting and answering are not
 * counted off (a floor would report 3599).
 */
function leaseDuration(entry: TokenEntry, nowSeconds: number): number {
  return entry.expireTime === 0 ? 0 : Math.max(0, Math.round(entry.expireTime - nowSeconds));
}

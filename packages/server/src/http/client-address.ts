import { BlockList, isIP } from 'node:net';
import { CustosError } from '@custos/core/errors';

/** An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is that IPv4 address. */
const MAPPED_V4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/**
 * One spelling per address: IPv4-mapped IPv6 addresses as IPv4, IPv6 in lower case; undefined
 * for anything that is not an IP address.
 *
 * @example
 * ```ts
 * normalizeAddress('::ffff:127.0.0.1'); // '127.0.0.1'
 * ```
 */
export function normalizeAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const trimmed = address.trim();
  const mapped = MAPPED_V4.exec(trimmed);
  const candidate = mapped?.[1] ?? trimmed.toLowerCase();
  return isIP(candidate) === 0 ? undefined : candidate;
}

/**
 * A list of CIDR blocks (`10.0.0.0/8`, `::1/128`, or a bare address), checked and matched.
 * `field` names the setting in refusals.
 *
 * @example
 * ```ts
 * const list = cidrList(['10.0.0.0/8'], 'token_bound_cidrs');
 * list.has('10.1.2.3'); // true
 * ```
 */
export function cidrList(blocks: readonly string[], field: string) {
  const list = new BlockList();
  for (const [index, block] of blocks.entries()) {
    const [address, prefix, extra] = block.split('/');
    const normal = normalizeAddress(address);
    const family = normal === undefined ? 0 : isIP(normal);
    const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
    if (
      family === 0 ||
      extra !== undefined ||
      (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) ||
      bits > (family === 4 ? 32 : 128)
    )
      // The entry is named by its place, never echoed.
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `${field}: entry ${index + 1} is not a CIDR block (address/prefix)`,
      );
    list.addSubnet(normal as string, bits, family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    /** Whether `address` (any spelling) is inside one of the blocks. */
    has(address: string | undefined): boolean {
      // No blocks (no trusted proxies, the usual case): nothing to match, asked every request.
      if (blocks.length === 0) return false;
      const normal = normalizeAddress(address);
      if (normal === undefined) return false;
      return list.check(normal, isIP(normal) === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/**
 * The client's address: the peer's, unless the peer is a trusted proxy; then the rightmost
 * `X-Forwarded-For` entry that is not itself a trusted proxy. A header from an untrusted peer is
 * ignored, so a client cannot claim another address.
 *
 * @example
 * ```ts
 * clientAddress('10.0.0.5', '203.0.113.9, 10.0.0.7', cidrList(['10.0.0.0/8'], 'trustedProxies'));
 * // '203.0.113.9'
 * ```
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: { has(address: string | undefined): boolean },
): string | undefined {
  let address = normalizeAddress(peer);
  if (address === undefined || !trusted.has(address) || forwardedFor === undefined) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i]);
    // A malformed entry: the client's address cannot be known (matches no block).
    if (hop === undefined) return undefined;
    address = hop;
    if (!trusted.has(hop)) return hop;
  }
  return address;
}

/** A block's address and prefix length (a bare address is a /32 or /128). */
function blockOf(block: string): { address: string; bits: number } {
  const [address = '', prefix] = block.split('/');
  const normal = normalizeAddress(address) ?? address;
  const full = isIP(normal) === 4 ? 32 : 128;
  return { address: normal, bits: prefix === undefined ? full : Number(prefix) };
}

/**
 * Whether every block of `inner` lies inside some block of `outer` (both already checked with
 * {@link cidrList}): its network is in the outer block and its prefix is no shorter.
 *
 * @example
 * ```ts
 * blocksWithin(['10.1.0.0/16'], ['10.0.0.0/8']); // true
 * blocksWithin(['0.0.0.0/0'], ['10.0.0.0/8']); // false
 * ```
 */
export function blocksWithin(inner: readonly string[], outer: readonly string[]): boolean {
  return inner.every((block) => {
    const { address, bits } = blockOf(block);
    return outer.some((candidate) => {
      const around = blockOf(candidate);
      return (
        isIP(around.address) === isIP(address) &&
        around.bits <= bits &&
        cidrList([candidate], 'blocks').has(address)
      );
    });
  });
}

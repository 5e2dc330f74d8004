import { CustosError } from '@custos/core/errors';
import { describeKey } from '@custos/core/internal/transit';
import type { TransitStore } from '../transit-store.js';

/**
 * A key as `GET transit/keys/:name` shows it (every key-management write answers with it too);
 * `ERR_NOT_FOUND` when there is no such key.
 *
 * @example
 * ```ts
 * return ok(request, reply, await describedKey(transit, name));
 * ```
 */
export async function describedKey(
  transit: Pick<TransitStore, 'describe' | 'now' | 'unusedReservations'>,
  name: string,
): Promise<ReturnType<typeof describeKey>> {
  const found = await transit.describe(name);
  if (found === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
  // `encryptions` shows encryptions made, not the slots this node reserved in blocks ahead.
  const unused = transit.unusedReservations(name);
  const versions = found.versions.map((v) => ({
    ...v,
    encryptions: v.encryptions - (unused.get(v.version) ?? 0),
  }));
  return describeKey(found.policy, versions, transit.now().getTime());
}

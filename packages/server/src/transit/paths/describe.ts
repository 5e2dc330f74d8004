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
  transit: Pick<TransitStore, 'describe' | 'now'>,
  name: string,
): Promise<ReturnType<typeof describeKey>> {
  const found = await transit.describe(name);
  if (found === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
  return describeKey(found.policy, found.versions, transit.now().getTime());
}

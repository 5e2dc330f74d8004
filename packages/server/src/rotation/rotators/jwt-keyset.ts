import { CustosError } from '@custos/core/errors';
import type { JwtAlgorithm } from '@custos/core/tokens';
import { ownValue, setOwn } from '../../lib/own-property.js';
import type { Rotator } from '../rotator.js';
import { fieldOf } from './random.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * The algorithms of `@custos/core/tokens` (its JWT_ALGORITHMS; jwt-keyset.test.ts holds them
 * equal), named here so that the token library and jose load only when a keyset rotates,
 * not with every server.
 */
export const KEYSET_ALGORITHMS: readonly JwtAlgorithm[] = ['HS256', 'ES256', 'EdDSA', 'RS256'];

/** The token library, loaded by the first rotation that needs it. */
const tokens = () => import('@custos/core/tokens');

function algorithmOf(settings: Readonly<Record<string, unknown>>): JwtAlgorithm | undefined {
  const algorithm = settings.algorithm;
  if (algorithm === undefined) return undefined;
  if (!KEYSET_ALGORITHMS.includes(algorithm as JwtAlgorithm))
    throw invalid(`settings.algorithm must be one of ${KEYSET_ALGORITHMS.join(', ')}`);
  return algorithm as JwtAlgorithm;
}

/**
 * The `jwt-keyset` rotator: the secret holds a custos JWT keyset (`@custos/core/tokens`, the
 * JSON `serializeJwtKeyset` writes, in `field`, default `keyset`). A rotation adds a new
 * current signing key; the outgoing key becomes verify-only until the policy's grace period
 * ends (its `verifyUntil`), and keys whose grace ended are dropped — what `custos jwt rotate`
 * does to a keyset file. Applications load the keyset from custos (`loadJwtKeyset`) and pick
 * up the new key on their next read. A secret with no keyset yet gets a new one.
 *
 * Settings: `field`, `algorithm` of the new key (default: the outgoing key's; `ES256` for a new
 * keyset).
 */
export const jwtKeysetRotator: Rotator = {
  name: 'jwt-keyset',
  checkSettings(settings) {
    fieldOf(settings, 'keyset');
    algorithmOf(settings);
  },
  async create({ settings, current, gracePeriodSeconds, now }) {
    const field = fieldOf(settings, 'keyset');
    const algorithm = algorithmOf(settings);
    const stored = ownValue(current, field);
    const { JwtKeyset, loadJwtKeyset, serializeJwtKeyset } = await tokens();
    const next =
      stored === undefined
        ? await JwtKeyset.generate(algorithm ?? 'ES256', { now: new Date(now) })
        : await (await loadJwtKeyset(stored)).rotate({
            graceSeconds: gracePeriodSeconds,
            now: new Date(now),
            ...(algorithm === undefined ? {} : { algorithm }),
          });
    const pending: Record<string, unknown> = { ...current };
    setOwn(pending, field, serializeJwtKeyset(next));
    return pending;
  },
  async set() {},
  async test({ settings, current, pending }) {
    const field = fieldOf(settings, 'keyset');
    const { loadJwtKeyset } = await tokens();
    const next = await loadJwtKeyset(ownValue(pending, field));
    const stored = ownValue(current, field);
    if (stored === undefined) return;
    const before = await loadJwtKeyset(stored);
    if (next.current.kid === before.current.kid)
      throw new Error('the new keyset has the same current key');
    if (!next.keys.some((k) => k.kid === before.current.kid))
      throw new Error('the new keyset dropped the outgoing key before its grace period');
  },
};

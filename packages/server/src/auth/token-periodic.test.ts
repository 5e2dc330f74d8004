import { describe, expect, it } from 'vitest';
import {
  hardLimitOf,
  initialLifetime,
  MAX_TOKEN_TTL_SECONDS,
  renewedExpiry,
} from './token-lifetime.js';

const AT = 1_800_000_000.5;
const HOUR = 3600;

describe('periodic token lifetimes', () => {
  it('expire one period ahead, ignoring the TTL asked for, with no system maximum', () => {
    const life = initialLifetime(
      { ttlSeconds: 10, periodSeconds: HOUR, isRoot: false },
      AT,
      undefined,
    );
    expect(life).toMatchObject({
      creationTtl: HOUR,
      expireTime: AT + HOUR,
      maxExpireTime: 0,
      renewable: true,
      period: HOUR,
    });
    expect(hardLimitOf(life)).toBe(Number.POSITIVE_INFINITY);
    const later = AT + 2000 * HOUR;
    expect(renewedExpiry(life, later, 5 * HOUR, undefined)).toBe(later + HOUR);
  });

  it('cap the period at 768 h and the explicit maximum too', () => {
    const life = initialLifetime(
      { periodSeconds: 10_000 * HOUR, explicitMaxTtlSeconds: 10_000 * HOUR, isRoot: false },
      AT,
      undefined,
    );
    expect(life.period).toBe(MAX_TOKEN_TTL_SECONDS);
    expect(life.maxExpireTime).toBe(AT + MAX_TOKEN_TTL_SECONDS);
  });

  it('never renew past an explicit maximum', () => {
    const life = initialLifetime(
      { periodSeconds: HOUR, explicitMaxTtlSeconds: 90 * 60, isRoot: false },
      AT,
      undefined,
    );
    expect(renewedExpiry(life, AT + 59 * 60, undefined, undefined)).toBe(AT + 90 * 60);
  });

  it('never outlive the parent: its expiry at creation and renewal, its hard limit, its renewability', () => {
    const parent = initialLifetime(
      { ttlSeconds: HOUR, explicitMaxTtlSeconds: 2 * HOUR, isRoot: false },
      AT,
      undefined,
    );
    const child = initialLifetime({ periodSeconds: 5 * HOUR, isRoot: false }, AT, parent);
    expect(child.expireTime).toBe(parent.expireTime);
    // The creation TTL is what the parent left it, not the period asked for.
    expect(child.creationTtl).toBe(HOUR);
    expect(child.maxExpireTime).toBe(AT + 2 * HOUR);
    const renewedParent = { ...parent, expireTime: AT + 2 * HOUR };
    expect(renewedExpiry(child, AT + 30 * 60, undefined, renewedParent)).toBe(AT + 2 * HOUR);
    const fixedParent = initialLifetime(
      { ttlSeconds: HOUR, renewable: false, isRoot: false },
      AT,
      undefined,
    );
    const fixedChild = initialLifetime({ periodSeconds: HOUR, isRoot: false }, AT, fixedParent);
    expect(fixedChild.renewable).toBe(false);
    expect(hardLimitOf(fixedChild)).toBe(fixedParent.expireTime);
  });
});

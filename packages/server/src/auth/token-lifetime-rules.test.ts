import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TOKEN_TTL_SECONDS,
  hardLimitOf,
  initialLifetime,
  type Lifetime,
  MAX_TOKEN_TTL_SECONDS,
  remainingTtl,
  renewedExpiry,
} from './token-lifetime.js';

// The lifetime rules as pure functions of a fixed clock: every bound is checked at the value
// where it alone decides the result, one second either side where a comparison could slip.
const AT = 1_800_000_000;
const HOUR = 3600;

const lifetime = (fields: Partial<Lifetime> = {}): Lifetime => ({
  creationTime: AT,
  creationTtl: HOUR,
  expireTime: AT + HOUR,
  maxExpireTime: AT + 2 * HOUR,
  renewable: true,
  ...fields,
});

describe('a new token lifetime', () => {
  it('never expires only for a root token with no TTL, maximum or expiring parent', () => {
    const forever = { creationTime: AT, creationTtl: 0, expireTime: 0, maxExpireTime: 0 };
    expect(initialLifetime({ isRoot: true }, AT, undefined)).toEqual({
      ...forever,
      renewable: false,
    });
    const rootParent = lifetime({ expireTime: 0, maxExpireTime: 0, renewable: false });
    expect(initialLifetime({ isRoot: true }, AT, rootParent)).toMatchObject(forever);

    // Each condition alone gives the root token an expiry.
    expect(initialLifetime({ isRoot: true, ttlSeconds: 60 }, AT, undefined).expireTime).toBe(
      AT + 60,
    );
    expect(
      initialLifetime({ isRoot: true, explicitMaxTtlSeconds: 90 }, AT, undefined),
    ).toMatchObject({ expireTime: AT + 90, maxExpireTime: AT + 90 });
    expect(initialLifetime({ isRoot: true }, AT, lifetime()).expireTime).toBe(AT + HOUR);
    // A token without the root policy gets the default TTL.
    expect(initialLifetime({ isRoot: false }, AT, undefined)).toEqual({
      creationTime: AT,
      creationTtl: DEFAULT_TOKEN_TTL_SECONDS,
      expireTime: AT + DEFAULT_TOKEN_TTL_SECONDS,
      maxExpireTime: AT + MAX_TOKEN_TTL_SECONDS,
      renewable: true,
    });
  });

  it('counts from the exact time, floors only the creation time, rounds the creation TTL', () => {
    const at = AT + 0.75;
    expect(initialLifetime({ isRoot: false, ttlSeconds: 60 }, at, undefined)).toEqual({
      creationTime: AT,
      creationTtl: 60,
      expireTime: at + 60,
      maxExpireTime: at + MAX_TOKEN_TTL_SECONDS,
      renewable: true,
    });
    // A parent that expires 0.6 s later leaves a creation TTL of one second (rounded, not floored).
    const parent = lifetime({ expireTime: at + 0.6 });
    expect(initialLifetime({ isRoot: false }, at, parent).creationTtl).toBe(1);
  });

  it('takes the TTL as asked when every bound is above it, and caps it at each bound exactly', () => {
    const ask = (ttlSeconds: number, explicitMaxTtlSeconds?: number, parent?: Lifetime) =>
      initialLifetime({ isRoot: false, ttlSeconds, explicitMaxTtlSeconds }, AT, parent);
    expect(ask(MAX_TOKEN_TTL_SECONDS - 1).expireTime).toBe(AT + MAX_TOKEN_TTL_SECONDS - 1);
    expect(ask(MAX_TOKEN_TTL_SECONDS + 1).expireTime).toBe(AT + MAX_TOKEN_TTL_SECONDS);
    expect(ask(599, 600)).toMatchObject({ expireTime: AT + 599, maxExpireTime: AT + 600 });
    expect(ask(601, 600)).toMatchObject({ expireTime: AT + 600, creationTtl: 600 });
    expect(ask(1, MAX_TOKEN_TTL_SECONDS + 1).maxExpireTime).toBe(AT + MAX_TOKEN_TTL_SECONDS);

    const parent = lifetime({ expireTime: AT + 500, maxExpireTime: AT + 700 });
    expect(ask(499, undefined, parent)).toMatchObject({
      expireTime: AT + 499,
      maxExpireTime: AT + 700,
    });
    expect(ask(501, undefined, parent)).toMatchObject({ expireTime: AT + 500, creationTtl: 500 });
  });

  it("bounds the maximum by a parent's hard limit: its maximum, or its expiry if it cannot renew", () => {
    const renews = lifetime({ expireTime: AT + 500, maxExpireTime: AT + 700 });
    expect(initialLifetime({ isRoot: false }, AT, renews).maxExpireTime).toBe(AT + 700);
    const fixed = lifetime({ expireTime: AT + 500, maxExpireTime: AT + 700, renewable: false });
    expect(initialLifetime({ isRoot: false }, AT, fixed)).toMatchObject({
      maxExpireTime: AT + 500,
      renewable: false,
    });
  });

  it('is renewable unless asked not to or born of an expiring parent that cannot renew', () => {
    expect(initialLifetime({ isRoot: false, renewable: false }, AT, undefined).renewable).toBe(
      false,
    );
    expect(initialLifetime({ isRoot: false, renewable: true }, AT, lifetime()).renewable).toBe(
      true,
    );
    // A root parent never expires and cannot renew: its children renew all the same.
    const rootParent = lifetime({ expireTime: 0, maxExpireTime: 0, renewable: false });
    expect(initialLifetime({ isRoot: false }, AT, rootParent)).toMatchObject({
      renewable: true,
      expireTime: AT + DEFAULT_TOKEN_TTL_SECONDS,
    });
  });
});

describe("a token's hard limit", () => {
  it('is never for a token without expiry, the expiry for one that cannot renew', () => {
    expect(hardLimitOf(lifetime({ expireTime: 0, maxExpireTime: 0 }))).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(hardLimitOf(lifetime({ renewable: false }))).toBe(AT + HOUR);
  });

  it('is the maximum of a renewable token, held to 768 h (plus the floored second) from creation', () => {
    expect(hardLimitOf(lifetime())).toBe(AT + 2 * HOUR);
    expect(hardLimitOf(lifetime({ maxExpireTime: AT + 10 * MAX_TOKEN_TTL_SECONDS }))).toBe(
      AT + 1 + MAX_TOKEN_TTL_SECONDS,
    );
    // An entry without a stored maximum (0) is held to the system maximum alone.
    expect(hardLimitOf(lifetime({ maxExpireTime: 0 }))).toBe(AT + 1 + MAX_TOKEN_TTL_SECONDS);
  });
});

describe('a renewed expiry', () => {
  const entry = lifetime({ creationTtl: 300, maxExpireTime: AT + 10 * HOUR });
  const at = AT + 100;

  it('extends by the increment, or by the creation TTL when none (or none above 0) is given', () => {
    expect(renewedExpiry(entry, at, 600, undefined)).toBe(at + 600);
    expect(renewedExpiry(entry, at, 1, undefined)).toBe(at + 1);
    expect(renewedExpiry(entry, at, undefined, undefined)).toBe(at + 300);
    expect(renewedExpiry(entry, at, 0, undefined)).toBe(at + 300);
    expect(renewedExpiry(entry, at, -5, undefined)).toBe(at + 300);
    // Without a creation TTL the default TTL applies (then the hard limit).
    const noTtl = lifetime({ creationTtl: 0, maxExpireTime: 0 });
    expect(renewedExpiry(noTtl, AT, undefined, undefined)).toBe(AT + DEFAULT_TOKEN_TTL_SECONDS);
  });

  it("stops at the token's hard limit and at its parent's current expiry, whichever is first", () => {
    expect(renewedExpiry(entry, at, 100 * HOUR, undefined)).toBe(AT + 10 * HOUR);
    const parent = lifetime({ expireTime: at + 50 });
    expect(renewedExpiry(entry, at, 600, parent)).toBe(at + 50);
    expect(renewedExpiry(entry, at, 49, parent)).toBe(at + 49);
    // A parent that never expires does not bound it.
    const rootParent = lifetime({ expireTime: 0, maxExpireTime: 0, renewable: false });
    expect(renewedExpiry(entry, at, 600, rootParent)).toBe(at + 600);
  });
});

describe('the remaining TTL', () => {
  it('is whole seconds left, 0 once expired, and 0 for a token that never expires', () => {
    expect(remainingTtl({ expireTime: AT + 10.9 }, AT)).toBe(10);
    expect(remainingTtl({ expireTime: AT + 1 }, AT)).toBe(1);
    expect(remainingTtl({ expireTime: AT - 5 }, AT)).toBe(0);
    expect(remainingTtl({ expireTime: 0 }, AT)).toBe(0);
  });
});

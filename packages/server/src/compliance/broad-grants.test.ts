import { describe, expect, it } from 'vitest';
import { isBroadPath } from './broad-grants.js';

describe('isBroadPath', () => {
  it.each([
    ['*', true],
    ['+/*', true],
    ['+/+/*', true],
    ['s*', true], // reaches sys/ as well as secret/
    ['sys/*', true],
    ['sys/+/*', true],
    ['sys/policies/acl/*', true],
    ['sys/policy/+', true],
    ['sys/auth/*', true],
    ['sys/mounts/+', true],
    ['sys/audit/*', true],
    ['sys/seal', true],
    ['sys/policies/acl/admin', false],
    ['secret/*', false],
    ['secret/+/prod/*', false],
    ['secret/data/app/*', false],
    ['transit/encrypt/*', false],
    ['auth/token/create', false],
    ['+', false],
    ['sys/health', false],
    ['sys.*', false], // a dot is a dot, not any character
  ])('%s → %s', (pattern, broad) => {
    expect(isBroadPath(pattern)).toBe(broad);
  });
});

import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/**
 * A module measured by the tests under some directories (bench/mutation/modules.ts, testDir),
 * comma-separated.
 */
const testDirs = process.env.CUSTOS_MUTATION_TEST_DIR?.split(',');

/**
 * Tests that cannot run under Stryker. Its vitest runner runs every test file in a worker thread,
 * whose `process.env` is a copy the process environment never sees: a test that points a native
 * library at its own configuration through the environment (SoftHSM2's `SOFTHSM2_CONF`) leaves
 * the library reading the machine's default, where the test's token does not exist. The first
 * measures the PKCS#11 KMS, not a module under mutation; the two seal tests (SoftHSM2 through
 * packages/server/test/softhsm.ts) leave the PKCS#11 seal's code measured by no test under
 * Stryker. `npm test` still runs them all.
 */
const NOT_UNDER_STRYKER = [
  'packages/core/src/kms/pkcs11/pkcs11-kms.test.ts',
  'packages/server/src/seal/pkcs11-seal.test.ts',
  'packages/server/src/seal/auto-unseal-pkcs11.test.ts',
];

/**
 * The test settings under mutation testing: the project's, with more time per test and hook.
 * Stryker instruments every file for coverage and shares two cores with its checker, so a test
 * that takes seconds alone can pass the project's 20 s limit in the initial run and abort it.
 */
export default defineConfig({
  ...base,
  root: fileURLToPath(new URL('../../', import.meta.url)),
  test: {
    ...base.test,
    testTimeout: 90_000,
    hookTimeout: 120_000,
    ...(testDirs === undefined ? {} : { include: testDirs.map((dir) => `${dir}/**/*.test.ts`) }),
    exclude: [...(base.test?.exclude ?? configDefaults.exclude), ...NOT_UNDER_STRYKER],
    // Test files share loaded modules: only when static mutants are skipped (see modules.ts).
    ...(process.env.CUSTOS_MUTATION_SHARED_MODULES === '1' ? { isolate: false } : {}),
  },
});

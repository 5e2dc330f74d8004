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
 * the library reading the run's setting, where the test's token does not exist. This one
 * measures the PKCS#11 KMS, not a module under mutation. (The seal's SoftHSM2 tests run: they
 * make their tokens in the directory bench/mutation/run.ts names, packages/server/test/softhsm.ts.)
 * `npm test` runs them all.
 */
const NOT_UNDER_STRYKER = ['packages/core/src/kms/pkcs11/pkcs11-kms.test.ts'];

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The test settings under mutation testing: the project's, with more time per test and hook.
 * Stryker instruments every file for coverage and shares two cores with its checker, so a test
 * that takes seconds alone can pass the project's 20 s limit in the initial run and abort it.
 *
 * Every test file runs isolated (vitest's default), always. Files sharing loaded modules
 * (`isolate: false`) were tried for speed and measured wrong: mutants every test kills were
 * reported as survivors, different ones on each run of the same file (keyring-json.ts lines
 * 82–200: four false survivors shared, none isolated).
 */
const include =
  testDirs?.map((dir) => `${dir}/**/*.test.ts`) ?? base.test?.include ?? configDefaults.include;
const exclude = [...(base.test?.exclude ?? configDefaults.exclude), ...NOT_UNDER_STRYKER];

export default defineConfig({
  ...base,
  root,
  test: {
    ...base.test,
    testTimeout: 90_000,
    hookTimeout: 120_000,
    include,
    exclude,
    isolate: true,
  },
});
